"""The data loader: the shared MNIST (shapes, dtypes, splits, balanced subsets), IDX files made here
(valid, corrupt, truncated, missing), and downloads from a local stand-in mirror (checksum, offline)."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rep_models import data
from rep_models.data import FILES, DatasetError

MNIST = Path(data.search_dirs("mnist")[0])  # $LATENT_LAB_MNIST (tests/conftest.py sets it)


# ---------------------------------------------------------------- the shared MNIST


@pytest.fixture(scope="module")
def mnist_train_arrays():
    return data.load_arrays("mnist", "train", download=False)


def test_arrays_shapes_and_dtypes(mnist_train_arrays):
    images, labels = mnist_train_arrays
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    test_images, test_labels = data.load_arrays("mnist", "test", download=False)
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)


def test_shared_files_match_their_published_checksums():
    """The decompressed shared files are the ones the downloader verifies against."""
    for key, fname in FILES.items():
        digest = hashlib.sha256(gzip.decompress((MNIST / fname).read_bytes())).hexdigest()
        assert digest == data.DATASETS["mnist"].sha256[key], fname


def _row_hashes(x: torch.Tensor) -> list[float]:
    """One number per image (a fixed random projection), to compare sets of images cheaply."""
    w = torch.randn(784, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return sorted((x.flatten(1).double() @ w).tolist())


def test_splits_sizes_dtypes_and_a_fixed_partition():
    full_x, full_y = data.load_tensors("mnist", "full_train")
    train_x, train_y = data.load_tensors("mnist", "train")
    val_x, val_y = data.load_tensors("mnist", "val")
    test_x, test_y = data.load_tensors("mnist", "test")
    assert (len(train_x), len(val_x), len(test_x), len(full_x)) == (55000, 5000, 10000, 60000)
    for x, y in ((train_x, train_y), (val_x, val_y), (test_x, test_y)):
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28) and y.dtype == torch.int64
        assert len(x) == len(y) and 0 <= float(x.min()) and float(x.max()) <= 1
    # train and val partition full_train: the same images, each in exactly one of them.
    assert _row_hashes(torch.cat([train_x, val_x])) == _row_hashes(full_x)
    assert torch.equal(torch.cat([train_y, val_y]).bincount(), full_y.bincount())
    assert val_y.bincount().min() > 350  # a random carve keeps every class
    # Fixed by the seed: the same seed gives the same split, another seed another one.
    again_x, again_y = data.load_tensors("mnist", "val")
    assert torch.equal(again_x, val_x) and torch.equal(again_y, val_y)
    other_x, _ = data.load_tensors("mnist", "val", seed=1)
    assert not torch.equal(other_x, val_x)


def test_balanced_subset():
    y = data.load_tensors("mnist", "val")[1]
    idx = data.balanced_subset(y, 100, seed=0)
    assert len(idx) == 100 and len(idx.unique()) == 100
    assert y[idx].bincount(minlength=10).tolist() == [10] * 10
    assert torch.equal(idx, data.balanced_subset(y, 100, seed=0))
    assert not torch.equal(idx, data.balanced_subset(y, 100, seed=1))
    odd = data.balanced_subset(y, 105, seed=0)
    assert len(odd.unique()) == 105 and y[odd].bincount(minlength=10).min() >= 10


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'validation'"):
        data.load_tensors("mnist", "validation")
    with pytest.raises(ValueError, match="'kmnist'"):
        data.load_arrays("kmnist", "train")


# ---------------------------------------------------------------- IDX files made here


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000080N, N big-endian dims, the data."""
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(np.uint8).tobytes()


def write_dataset(folder: Path, n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (folder / FILES[f"{split}_images"]).write_bytes(gzip.compress(idx_bytes(images)))
        (folder / FILES[f"{split}_labels"]).write_bytes(gzip.compress(idx_bytes(labels)))
    return images, labels


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty per-user cache and no shared or system folders, so only the folders a test sets up are found."""
    monkeypatch.setenv("LATENT_LAB_CACHE", str(tmp_path / "cache"))
    for name, spec in data.DATASETS.items():
        monkeypatch.setitem(data.DATASETS, name, dataclasses.replace(spec, system_dirs=()))
    return tmp_path


def test_reads_files_made_here(isolated):
    images, labels = write_dataset(isolated / "d")
    got_images, got_labels = data.load_arrays("mnist", "train", root=isolated / "d", download=False)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    x, y = data.load_tensors("mnist", "test", root=isolated / "d")
    assert torch.allclose(x[:, 0], torch.from_numpy(images).float() / 255) and torch.equal(y, torch.from_numpy(labels).long())
    # Plain (decompressed) files are found too.
    plain = isolated / "plain"
    plain.mkdir()
    for fname in FILES.values():
        (plain / fname[:-3]).write_bytes(gzip.decompress((isolated / "d" / fname).read_bytes()))
    assert np.array_equal(data.load_arrays("mnist", "train", root=plain, download=False)[0], images)


def _corruptions(images: np.ndarray) -> dict[str, bytes]:
    good = idx_bytes(images)
    gz = gzip.compress(good)
    flipped = bytearray(gz)
    flipped[12] ^= 0xFF  # inside the deflate stream
    crc = bytearray(gz)
    crc[-6] ^= 0xFF  # the CRC trailer
    return {
        "bad magic": gzip.compress(b"\x12\x34\x08\x03" + good[4:]),
        "bad dtype": gzip.compress(b"\x00\x00\x0d\x03" + good[4:]),
        "missing bytes": gzip.compress(good[:-100]),
        "extra bytes": gzip.compress(good + b"\x00" * 7),
        "truncated header": gzip.compress(good[:9]),
        "too short": gzip.compress(good[:2]),
        "not gzip": good[:50] + b"plain bytes under a .gz name",
        "truncated gzip": gz[: len(gz) // 2],
        "corrupt deflate": bytes(flipped),
        "bad crc": bytes(crc),
        "empty": b"",
    }


@pytest.mark.parametrize("kind", list(_corruptions(np.zeros((2, 28, 28), np.uint8))))
def test_corrupt_or_truncated_file_names_the_file(isolated, kind):
    images, _ = write_dataset(isolated / "d", n=30)
    bad = isolated / "d" / FILES["train_images"]
    bad.write_bytes(_corruptions(images)[kind])
    with pytest.raises(DatasetError) as err:
        data.load_arrays("mnist", "train", root=isolated / "d", download=False)
    assert str(bad) in str(err.value)
    with pytest.raises(DatasetError, match=FILES["train_images"]):
        data.read_idx(bad)


def test_images_and_labels_that_disagree(isolated):
    write_dataset(isolated / "d", n=20)
    (isolated / "d" / FILES["train_labels"]).write_bytes(gzip.compress(idx_bytes(np.zeros(19, np.uint8))))
    with pytest.raises(DatasetError, match="do not match"):
        data.load_arrays("mnist", "train", root=isolated / "d", download=False)


def test_missing_files_one_clear_error(isolated):
    empty = isolated / "nothing_here"
    empty.mkdir()
    with pytest.raises(DatasetError) as err:
        data.load_arrays("mnist", "train", root=empty, download=False)
    msg = str(err.value)
    for needle in (FILES["train_images"], str(empty), str(isolated / "cache" / "mnist"), "LATENT_LAB_MNIST", *FILES.values()):
        assert needle in msg, needle


# ---------------------------------------------------------------- downloads (a local stand-in mirror)


class _Mirror(http.server.ThreadingHTTPServer):
    files: dict[str, bytes]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        body = self.server.files.get(self.path.rsplit("/", 1)[-1])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(isolated, monkeypatch):
    """A local HTTP server standing in for MNIST's mirrors; set ``.files`` to what it serves."""
    server = _Mirror(("127.0.0.1", 0), _Handler)
    server.files = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    spec = dataclasses.replace(data.DATASETS["mnist"], mirrors=(f"http://127.0.0.1:{server.server_port}/mnist/",))
    monkeypatch.setitem(data.DATASETS, "mnist", spec)
    yield server
    server.shutdown()
    server.server_close()


def test_download_verifies_the_checksum_and_fills_the_cache(mirror, isolated):
    fname = FILES["train_labels"]
    mirror.files = {fname: (MNIST / fname).read_bytes()}
    path = data._download("mnist", "train_labels", progress=False)
    assert path == isolated / "cache" / "mnist" / fname
    assert path.read_bytes() == (MNIST / fname).read_bytes()
    assert data.read_idx(path).shape == (60000,)


def test_download_with_a_wrong_checksum_leaves_nothing_behind(mirror, isolated):
    fname = FILES["train_labels"]
    mirror.files = {fname: gzip.compress(idx_bytes(np.zeros(60000, np.uint8)))}
    with pytest.raises(DatasetError, match="checksum mismatch"):
        data._download("mnist", "train_labels", progress=False)
    assert list((isolated / "cache" / "mnist").iterdir()) == []


def test_missing_files_with_a_failing_download(mirror, isolated):
    """Nothing local, the mirror has nothing: one error naming the file, the folders and the failure."""
    empty = isolated / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as err:
        data.load_arrays("mnist", "train", root=empty)
    msg = str(err.value)
    assert FILES["train_images"] in msg and str(empty) in msg and "download failed" in msg and "404" in msg
    assert list((isolated / "cache" / "mnist").iterdir()) == []


def test_a_silent_mirror_times_out_fast(isolated, monkeypatch):
    """A mirror that accepts the connection and never answers: the download gives up after the timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # never accept(): connections wait in the backlog with no reply
        port = silent.getsockname()[1]
        spec = dataclasses.replace(data.DATASETS["mnist"], mirrors=(f"http://127.0.0.1:{port}/a/", f"http://127.0.0.1:{port}/b/"))
        monkeypatch.setitem(data.DATASETS, "mnist", spec)
        monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 0.5)
        t0 = time.monotonic()
        with pytest.raises(DatasetError, match="download failed.*timed out"):
            data.load_arrays("mnist", "train", root=isolated / "empty")
        assert time.monotonic() - t0 < 5


def test_offline_download_from_the_real_mirrors_fails_fast(isolated):
    """Here there is no internet: the real mirrors fail within the timeout, with one clear error.
    (Online, the small labels file simply downloads into the temporary cache.)"""
    t0 = time.monotonic()
    try:
        path = data._download("mnist", "train_labels", progress=False)
    except DatasetError as e:
        assert all(m in str(e) for m in data.DATASETS["mnist"].mirrors)
        assert list((isolated / "cache" / "mnist").iterdir()) == []
    else:
        assert data.read_idx(path).shape == (60000,)
    assert time.monotonic() - t0 < 2 * data.DOWNLOAD_TIMEOUT + 10
