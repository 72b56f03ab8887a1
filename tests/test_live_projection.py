"""Re-running t-SNE / UMAP on a subset with the layout delivered as it iterates (rep_models/live_projection.py),
without Streamlit: intermediate layouts, the time bound, the visitor leaving, cancelling, one run per server."""
from __future__ import annotations

import time

import numpy as np
import pytest

from rep_models import live_projection as LP


@pytest.fixture(scope="module")
def blobs():
    """600 points in 10 well-separated clusters of 20 dimensions, and their labels."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=8, size=(10, 20))
    labels = np.repeat(np.arange(10), 60)
    return (centres[labels] + rng.normal(size=(600, 20))).astype(np.float32), labels


def watch(job: LP.LayoutJob, timeout: float = 120) -> list[LP.Snapshot]:
    """Poll ``job`` like the page (heartbeat and snapshot) until it ends; the snapshots seen, with a new layout each."""
    seen, t0 = [], time.monotonic()
    while job.running and time.monotonic() - t0 < timeout:
        job.heartbeat()
        s = job.snapshot()
        if s.coords is not None and (not seen or s.version != seen[-1].version):
            seen.append(s)
        time.sleep(0.02)
    job.join(5)
    seen.append(job.snapshot())
    return seen


def cluster_purity(coords: np.ndarray, labels: np.ndarray) -> float:
    idx, _ = LP.exact_knn(coords, 6)
    return float((labels[idx[:, 1:]] == labels[:, None]).mean())


def test_subset_and_exact_neighbours():
    a = LP.subset(10_000, 2000, seed=1)
    assert len(a) == len(set(a.tolist())) == 2000 and (np.diff(a) > 0).all()
    assert np.array_equal(a, LP.subset(10_000, 2000, seed=1))
    with pytest.raises(ValueError):
        LP.subset(100, 101)
    x = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    idx, dist = LP.exact_knn(x, 4, block=64)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    assert (idx[:, 0] == np.arange(300)).all() and np.allclose(dist[:, 0], 0, atol=1e-3)
    assert np.array_equal(idx[:, 1:], np.argsort(d, axis=1)[:, 1:4])
    assert np.allclose(dist, np.take_along_axis(d, idx, 1), atol=1e-3)


@pytest.mark.parametrize("method", LP.METHODS)
def test_a_run_delivers_layouts_as_it_iterates_and_ends_with_clusters(blobs, method):
    x, labels = blobs
    job = LP.LayoutJob(x, method, perplexity=20, n_neighbors=10, min_dist=0.2, every=25, labels=labels).start()
    seen = watch(job)
    last = seen[-1]
    assert last.error is None and last.stopped is None and not last.running and last.phase == "done"
    assert last.step == last.total and last.coords.shape == (600, 2) and np.isfinite(last.coords).all()
    steps = [s.step for s in seen]
    assert len(seen) >= 4 and steps == sorted(steps) and steps[0] < last.total  # intermediate layouts came first
    assert not np.allclose(seen[0].coords, last.coords)  # the layout moved between them
    assert cluster_purity(last.coords, labels) > 0.9  # well-separated clusters stay apart (measured 1.0; margin)


def test_a_run_is_bounded_in_time(blobs):
    x, _ = blobs
    big = np.tile(x, (4, 1)) + np.random.default_rng(1).normal(scale=0.1, size=(2400, 20)).astype(np.float32)
    job = LP.LayoutJob(big, "umap", max_seconds=0.3, every=1).start()
    last = watch(job)[-1]
    assert last.stopped == "time" and 0 < last.step < last.total and last.coords is not None


def test_a_run_stops_when_the_page_leaves_or_cancels(blobs):
    x, _ = blobs
    job = LP.LayoutJob(x, "tsne", heartbeat_timeout=0.2, every=1).start()
    job.join(60)  # nobody polls
    s = job.snapshot()
    assert s.stopped == "left" and s.step < s.total
    job = LP.LayoutJob(x, "umap", every=1).start()
    job.cancel()
    job.join(60)
    assert job.snapshot().stopped == "cancelled"


def test_one_run_at_a_time(blobs):
    x, _ = blobs
    slot = LP.LayoutSlot()
    first = LP.LayoutJob(x, "tsne", every=1)
    assert slot.claim(first)
    second = LP.LayoutJob(x, "umap")
    assert not slot.claim(second) and slot.current() is first and not second.running  # the second visitor is refused
    first.cancel()
    first.join(60)
    assert slot.claim(second) and slot.current() is second
    second.cancel()
    second.join(60)


def test_bad_arguments():
    with pytest.raises(ValueError):
        LP.LayoutJob(np.zeros((50, 3)), "pca")
    with pytest.raises(ValueError):
        LP.LayoutJob(np.zeros((5, 3)), "tsne")
    job = LP.LayoutJob(np.zeros((50, 3)), "tsne", perplexity=1000, n_neighbors=1, min_dist=5)
    assert (job.perplexity, job.n_neighbors, job.min_dist) == (100.0, 2, 0.99)
