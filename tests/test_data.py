"""The data loader: the shipped sample (its manifest, shapes, classes, splits, and the errors a missing or
damaged file gives), the full MNIST when present (shapes, dtypes, checksums, splits; skipped without it,
see ``full_mnist`` in conftest.py), IDX files made here (valid, corrupt, truncated, missing), and downloads
from a local stand-in mirror (checksum, timeouts). No test here reaches the network."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import json
import shutil
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

# ---------------------------------------------------------------- the shipped sample (data/)


def test_sample_matches_its_manifest_and_states_its_licence():
    manifest = json.loads((data.SHIPPED_DIR / "manifest.json").read_text())
    digest = hashlib.sha256(data.sample_path().read_bytes()).hexdigest()
    assert manifest["files"][data.SAMPLE_FILE] == digest == data.data_checksum("mnist", source="sample")
    assert "CC BY-SA 3.0" in manifest["source"] and "LeCun" in manifest["source"]
    assert "CC BY-SA 3.0" in (data.SHIPPED_DIR / "README.md").read_text()


def test_sample_shapes_dtypes_and_classes():
    test_x, test_y = data.load_sample("test")
    train_x, train_y = data.load_sample("train")
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,)
    assert train_x.shape == (data.SAMPLE_TRAIN, 28, 28) and train_y.shape == (data.SAMPLE_TRAIN,)
    assert all(a.dtype == np.uint8 for a in (test_x, test_y, train_x, train_y))
    assert np.bincount(train_y, minlength=10).tolist() == [1000] * 10  # class-balanced
    assert np.bincount(test_y, minlength=10).min() > 850  # MNIST's test set: 892 fives at the least
    assert train_x.max() == 255 and train_x.min() == 0
    index = data.sample_train_index()
    assert index.dtype == np.int32 and len(np.unique(index)) == data.SAMPLE_TRAIN and 0 <= index.min() and index.max() < 60000
    assert not train_x.flags.writeable, "the cached arrays are shared: read-only"
    with pytest.raises(ValueError, match="'val'"):
        data.load_sample("val")


def test_sample_splits_partition_its_training_digits():
    full_x, full_y = data.load_tensors("mnist", "full_train", source="sample")
    train_x, train_y = data.load_tensors("mnist", "train", source="sample")
    val_x, val_y = data.load_tensors("mnist", "val", source="sample")
    test_x, test_y = data.load_tensors("mnist", "test", source="sample")
    assert (len(train_x), len(val_x), len(test_x), len(full_x)) == (9000, 1000, 10000, 10000)
    for x, y in ((train_x, train_y), (val_x, val_y), (test_x, test_y), (full_x, full_y)):
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28) and y.dtype == torch.int64
        assert len(x) == len(y) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert _row_hashes(torch.cat([train_x, val_x])) == _row_hashes(full_x)
    assert torch.equal(torch.cat([train_y, val_y]).bincount(), full_y.bincount())
    assert val_y.bincount(minlength=10).min() > 70  # 100 a class expected; a random carve keeps every class
    again_x, _ = data.load_tensors("mnist", "val", source="sample")
    other_x, _ = data.load_tensors("mnist", "val", source="sample", seed=1)
    assert torch.equal(again_x, val_x) and not torch.equal(other_x, val_x)
    with pytest.raises(ValueError, match="fashion_mnist"):
        data.load_tensors("fashion_mnist", "test", source="sample")
    with pytest.raises(ValueError, match="'shipped'"):
        data.load_tensors("mnist", "test", source="shipped")


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A copy of data/ that a test may damage: rep_models.data reads it instead, with an empty cache."""
    d = tmp_path / "data"
    shutil.copytree(data.SHIPPED_DIR, d)
    monkeypatch.setattr(data, "SHIPPED_DIR", d)
    monkeypatch.setattr(data, "_SAMPLE_CACHE", {})
    return d


def _damage(d: Path, kind: str) -> Path:
    """Damage the copy in ``d``; returns the file the error must name."""
    sample, manifest = d / data.SAMPLE_FILE, d / "manifest.json"
    raw = sample.read_bytes()
    if kind == "sample missing":
        sample.unlink()
    elif kind == "sample altered":
        sample.write_bytes(raw[:1000] + bytes([raw[1000] ^ 0xFF]) + raw[1001:])
    elif kind == "sample truncated":
        sample.write_bytes(raw[: len(raw) // 2])
    elif kind == "unreadable, checksum updated":  # not an npz at all, yet the manifest agrees: never a crash
        sample.write_bytes(b"not a zip file")
        m = json.loads(manifest.read_text())
        m["files"][data.SAMPLE_FILE] = hashlib.sha256(b"not a zip file").hexdigest()
        manifest.write_text(json.dumps(m))
        return sample
    elif kind == "manifest missing":
        manifest.unlink()
        return manifest
    elif kind == "manifest not json":
        manifest.write_text("{ half a manifest")
        return manifest
    elif kind == "manifest without the sample":
        manifest.write_text(json.dumps({"files": {}}))
        return manifest
    return sample


@pytest.mark.parametrize("kind", ["sample missing", "sample altered", "sample truncated", "unreadable, checksum updated",
                                  "manifest missing", "manifest not json", "manifest without the sample"])
def test_a_missing_or_damaged_sample_names_the_file_and_the_fix(shipped_copy, kind):
    named = _damage(shipped_copy, kind)
    for read in (lambda: data.load_sample("test"), lambda: data.load_tensors("mnist", "val", source="sample")):
        with pytest.raises(DatasetError) as err:
            read()
        msg = str(err.value)
        assert str(named) in msg, msg
        assert "git checkout -- data/" in msg and "python -m rep_models.sample_data" in msg, msg


def test_the_sample_is_checked_once_per_process(shipped_copy):
    """A good file is read and verified once; later calls share the read-only arrays."""
    a = data.load_sample("train")[0]
    (shipped_copy / data.SAMPLE_FILE).unlink()
    assert data.load_sample("train")[0] is a


# ---------------------------------------------------------------- the full MNIST (skipped without it)


@pytest.fixture(scope="module")
def mnist_train_arrays(full_mnist):
    return data.load_arrays("mnist", "train", root=full_mnist, download=False)


def test_arrays_shapes_and_dtypes(mnist_train_arrays, full_mnist):
    images, labels = mnist_train_arrays
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    test_images, test_labels = data.load_arrays("mnist", "test", root=full_mnist, download=False)
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)


def test_full_files_match_their_published_checksums(full_mnist):
    """The decompressed files are the ones the downloader verifies against."""
    for key, fname in FILES.items():
        path = full_mnist / fname
        raw = gzip.decompress(path.read_bytes()) if path.is_file() else (full_mnist / fname[:-3]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == data.DATASETS["mnist"].sha256[key], fname


def test_sample_is_the_real_test_set_and_real_training_digits(mnist_train_arrays, full_mnist):
    """The shipped test digits are MNIST's test set; the training digits are MNIST's at ``train_index``,
    all from the 55,000 the zoo trains on (none from the validation split)."""
    test_images, test_labels = data.load_arrays("mnist", "test", root=full_mnist, download=False)
    sample_x, sample_y = data.load_sample("test")
    assert np.array_equal(sample_x, test_images) and np.array_equal(sample_y, test_labels)
    images, labels = mnist_train_arrays
    index = data.sample_train_index()
    train_x, train_y = data.load_sample("train")
    assert np.array_equal(train_x, images[index]) and np.array_equal(train_y, labels[index])
    val_index = torch.randperm(60000, generator=torch.Generator().manual_seed(0))[:5000].numpy()  # load_tensors' carve
    assert not np.isin(index, val_index).any()


def test_sample_rebuilds_byte_for_byte(full_mnist, tmp_path, monkeypatch):
    from rep_models.sample_data import build_sample

    monkeypatch.setattr(data, "_SAMPLE_CACHE", {})  # build_sample clears the cache it writes for
    path = build_sample(full_mnist, tmp_path)
    assert path.read_bytes() == data.sample_path().read_bytes()
    assert json.loads((tmp_path / "manifest.json").read_text()) == json.loads((data.SHIPPED_DIR / "manifest.json").read_text())


def _row_hashes(x: torch.Tensor) -> list[float]:
    """One number per image (a fixed random projection), to compare sets of images cheaply."""
    w = torch.randn(784, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return sorted((x.flatten(1).double() @ w).tolist())


def test_splits_sizes_dtypes_and_a_fixed_partition(full_mnist):
    full_x, full_y = data.load_tensors("mnist", "full_train", root=full_mnist)
    train_x, train_y = data.load_tensors("mnist", "train", root=full_mnist)
    val_x, val_y = data.load_tensors("mnist", "val", root=full_mnist)
    test_x, test_y = data.load_tensors("mnist", "test", root=full_mnist)
    assert (len(train_x), len(val_x), len(test_x), len(full_x)) == (55000, 5000, 10000, 60000)
    for x, y in ((train_x, train_y), (val_x, val_y), (test_x, test_y)):
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28) and y.dtype == torch.int64
        assert len(x) == len(y) and 0 <= float(x.min()) and float(x.max()) <= 1
    # train and val partition full_train: the same images, each in exactly one of them.
    assert _row_hashes(torch.cat([train_x, val_x])) == _row_hashes(full_x)
    assert torch.equal(torch.cat([train_y, val_y]).bincount(), full_y.bincount())
    assert val_y.bincount().min() > 350  # a random carve keeps every class
    # Fixed by the seed: the same seed gives the same split, another seed another one.
    again_x, again_y = data.load_tensors("mnist", "val", root=full_mnist)
    assert torch.equal(again_x, val_x) and torch.equal(again_y, val_y)
    other_x, _ = data.load_tensors("mnist", "val", root=full_mnist, seed=1)
    assert not torch.equal(other_x, val_x)


# ---------------------------------------------------------------- helpers and arguments


def test_balanced_subset():
    y = data.load_tensors("mnist", "val", source="sample")[1]
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


def test_download_verifies_the_checksum_and_fills_the_cache(mirror, isolated, monkeypatch):
    """A labels file made here, whose checksum the dataset's spec is told: it downloads into the cache."""
    fname = FILES["train_labels"]
    raw = idx_bytes(np.arange(60000) % 10)
    spec = data.DATASETS["mnist"]
    monkeypatch.setitem(data.DATASETS, "mnist", dataclasses.replace(spec, sha256={**spec.sha256, "train_labels": hashlib.sha256(raw).hexdigest()}))
    mirror.files = {fname: gzip.compress(raw)}
    path = data._download("mnist", "train_labels", progress=False)
    assert path == isolated / "cache" / "mnist" / fname
    assert path.read_bytes() == mirror.files[fname]
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


def test_unreachable_mirrors_fail_fast_with_one_error_naming_each(isolated, monkeypatch):
    """Offline, as a refused connection stands in for (the tests never reach the real mirrors): every mirror
    is tried and named in one error, and nothing is left in the cache."""
    ports = []
    for _ in range(2):
        with socket.socket() as s:  # a port that was free a moment ago: nothing listens there now
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    mirrors = tuple(f"http://127.0.0.1:{p}/mnist/" for p in ports)
    monkeypatch.setitem(data.DATASETS, "mnist", dataclasses.replace(data.DATASETS["mnist"], mirrors=mirrors))
    t0 = time.monotonic()
    with pytest.raises(DatasetError) as err:
        data._download("mnist", "train_labels", progress=False)
    assert all(m in str(err.value) for m in mirrors)
    assert list((isolated / "cache" / "mnist").iterdir()) == []
    assert time.monotonic() - t0 < 2 * data.DOWNLOAD_TIMEOUT + 10
