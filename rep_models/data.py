"""MNIST and Fashion-MNIST from their standard IDX files.

Where the files are looked for, in order:
1. ``root`` given by argument, or the environment variable (``LATENT_LAB_MNIST`` /
   ``LATENT_LAB_FASHION_MNIST``);
2. the per-user cache ``~/.cache/latent_lab/<dataset>`` (``LATENT_LAB_CACHE`` overrides);
3. the shared data folder beside the checkout (``../shared/data/mnist``, where CI and this project's
   machines keep MNIST), and for Fashion-MNIST Debian's ``/usr/share/datasets/fashion-mnist``;
4. a download from the dataset's public mirrors into the cache, with checksum verification.

Arrays are uint8 ``(N, 28, 28)``; :func:`load_tensors` gives float tensors ``(N, 1, 28, 28)`` in [0, 1].

The app itself never needs the full dataset: it reads the **shipped sample** in ``data/mnist_sample.npz``
(the 10,000 MNIST test digits and a fixed, class-balanced sample of 10,000 training digits, uint8, with
their labels; checked against ``data/manifest.json``). ``load_tensors(..., source="sample")`` reads it with
the same splits; ``python -m rep_models.sample_data`` writes it from the full dataset.
Only training the zoo and the full evaluation read the full 60,000 training digits.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt or truncated."""


FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    env_var: str
    system_dirs: tuple[str, ...]
    mirrors: tuple[str, ...]
    sha256: dict[str, str]  # of the decompressed files


DATASETS = {
    "mnist": DatasetSpec(
        name="mnist",
        env_var="LATENT_LAB_MNIST",
        system_dirs=(str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"),),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        env_var="LATENT_LAB_FASHION_MNIST",
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        mirrors=("https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        # Of the decompressed files, computed from Debian's dataset-fashion-mnist package.
        sha256={
            "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    ),
}


# The shipped sample (see the module docstring and data/README.md).
SHIPPED_DIR = Path(os.environ.get("LATENT_LAB_SHIPPED_DATA", Path(__file__).resolve().parent.parent / "data"))
SAMPLE_FILE = "mnist_sample.npz"
SAMPLE_TRAIN = 10_000  # training digits in the sample, 1,000 per class
SAMPLE_VAL = 1_000  # of those, carved off (seed 0) as the sample's validation split
SAMPLE_KEYS = ("test_images", "test_labels", "train_images", "train_labels", "train_index")
SOURCES = ("full", "sample")


# Seconds to wait on a mirror (connect and each read): offline must fail fast, not hang.
DOWNLOAD_TIMEOUT = 10.0


def cache_dir(dataset: str) -> Path:
    base = os.environ.get("LATENT_LAB_CACHE") or Path.home() / ".cache" / "latent_lab"
    return Path(base) / dataset


def search_dirs(dataset: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for ``dataset``'s files, in order."""
    spec = _spec(dataset)
    dirs: list[Path] = []
    if root is not None:
        dirs.append(Path(root))
    elif os.environ.get(spec.env_var):
        dirs.append(Path(os.environ[spec.env_var]))
    dirs.append(cache_dir(dataset))
    dirs.extend(Path(d) for d in spec.system_dirs)
    return dirs


def _spec(dataset: str) -> DatasetSpec:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[dataset]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzipped or plain) IDX file of unsigned bytes into an array.

    Raises DatasetError naming the file when the gzip stream, the magic number or the length is wrong.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # zlib.error: a corrupt deflate stream inside a valid header
        raise DatasetError(f"{path}: cannot read (bad or truncated gzip?): {e}") from e
    if len(raw) < 4:
        raise DatasetError(f"{path}: file too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise DatasetError(
            f"{path}: bad magic number {raw[:4].hex()}; expected 00000801 (labels) or 00000803 (images)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DatasetError(
            f"{path}: wrong length: header says {shape} = {expected} bytes, file has {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(dataset: str, key: str, root) -> Path | None:
    for d in search_dirs(dataset, root):
        for fname in (FILES[key], FILES[key][:-3]):
            p = d / fname
            if p.is_file():
                return p
    return None


def _download(dataset: str, key: str, progress: bool = True) -> Path:
    spec = _spec(dataset)
    dest_dir = cache_dir(dataset)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / FILES[key]
    errors = []
    for mirror in spec.mirrors:
        part = dest.with_suffix(".part")
        try:
            with urllib.request.urlopen(mirror + FILES[key], timeout=DOWNLOAD_TIMEOUT) as r, open(part, "wb") as out:
                total = int(r.headers.get("Content-Length") or 0)
                bar = _tqdm(total, FILES[key], progress)
                while chunk := r.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
                bar.close()
            if key in spec.sha256:
                digest = hashlib.sha256(gzip.decompress(part.read_bytes())).hexdigest()
                if digest != spec.sha256[key]:
                    raise DatasetError(f"checksum mismatch for {FILES[key]} from {mirror}")
            part.rename(dest)
            return dest
        except Exception as e:  # noqa: BLE001 - try the next mirror, report all at the end
            part.unlink(missing_ok=True)
            errors.append(f"{mirror}: {e}")
    raise DatasetError("; ".join(errors))


def _tqdm(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total or None, desc=desc, unit="B", unit_scale=True, disable=not enabled)


def load_arrays(dataset: str = "mnist", split: str = "train", root=None, download: bool = True):
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 of the ``train`` or ``test`` split."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    out = []
    for kind in ("images", "labels"):
        key = f"{split}_{kind}"
        path = _find(dataset, key, root)
        if path is None and download:
            try:
                path = _download(dataset, key)
            except DatasetError as e:
                path, why = None, str(e)
        if path is None:
            where = ", ".join(str(d) for d in search_dirs(dataset, root))
            raise DatasetError(
                f"{dataset}: {FILES[key]} not found in {where}"
                + (f"; download failed ({why})" if download else "")
                + f". Put the four files {', '.join(FILES.values())} in one folder and set "
                f"{_spec(dataset).env_var} to it (or pass root=...)."
            )
        out.append(read_idx(path))
    images, labels = out
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{dataset} {split}: images {images.shape} and labels {labels.shape} do not match")
    return images, labels


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, 28, 28)`` -> float32 ``(N, 1, 28, 28)`` in [0, 1]."""
    return torch.from_numpy(np.array(images, copy=True)).float().div_(255.0).unsqueeze(1)


def load_tensors(dataset: str = "mnist", split: str = "train", root=None, val_size: int | None = None, seed: int = 0,
                 source: str = "full"):
    """Float images ``(N, 1, 28, 28)`` in [0, 1] and int64 labels ``(N,)``.

    ``split`` is ``train`` (train minus the validation split), ``val`` (``val_size`` images carved from
    train with a fixed ``seed``; default 5,000 of the full set, 1,000 of the sample), ``test``, or
    ``full_train``. ``source="sample"`` reads the shipped sample (MNIST only) instead of the full dataset.
    """
    if split not in ("train", "val", "test", "full_train"):
        raise ValueError(f"split must be train, val, test or full_train, got {split!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source == "sample":
        if dataset != "mnist":
            raise ValueError(f"only MNIST ships with the app; {dataset!r} needs source='full'")
        images, labels = load_sample("test" if split == "test" else "train")
        val_size = SAMPLE_VAL if val_size is None else val_size
    else:
        images, labels = load_arrays(dataset, "test" if split == "test" else "train", root)
        val_size = 5000 if val_size is None else val_size
    x, y = to_tensor(images), torch.from_numpy(labels.astype(np.int64))
    if split in ("test", "full_train"):
        return x, y
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    idx = perm[:val_size] if split == "val" else perm[val_size:]
    idx = idx.sort().values
    return x[idx], y[idx]


def balanced_subset(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` examples, ``n // 10`` per class (the rest filled at random), fixed by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    classes = labels.unique()
    per = n // len(classes)
    chosen = []
    for c in classes:
        idx = (labels == c).nonzero().squeeze(1)
        chosen.append(idx[torch.randperm(len(idx), generator=g)[:per]])
    picked = torch.cat(chosen)
    if len(picked) < n:
        rest = torch.ones(len(labels), dtype=torch.bool)
        rest[picked] = False
        pool = rest.nonzero().squeeze(1)
        picked = torch.cat([picked, pool[torch.randperm(len(pool), generator=g)[: n - len(picked)]]])
    return picked.sort().values


def data_checksum(dataset: str = "mnist", root=None, source: str = "full") -> str:
    """sha256 over the decompressed bytes of the four files (identifies the data a model saw); for the
    shipped sample, the sha256 of its file."""
    if source == "sample":
        return _sample_sha256()
    h = hashlib.sha256()
    for split in ("train", "test"):
        for arr in load_arrays(dataset, split, root):
            h.update(arr.tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------------- the shipped sample

SAMPLE_HELP = ("Restore it from the repository (git checkout -- data/), or rebuild it from the full MNIST with "
               "python -m rep_models.sample_data.")


def sample_path() -> Path:
    return SHIPPED_DIR / SAMPLE_FILE


def _sample_sha256() -> str:
    manifest = SHIPPED_DIR / "manifest.json"
    try:
        return json.loads(manifest.read_text())["files"][SAMPLE_FILE]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{manifest}: missing or unreadable ({e}); it holds the sample's checksum. {SAMPLE_HELP}") from e


_SAMPLE_CACHE: dict[Path, dict[str, np.ndarray]] = {}  # per file: checked and read once per process


def _sample_arrays() -> dict[str, np.ndarray]:
    path = sample_path()
    if path in _SAMPLE_CACHE:
        return _SAMPLE_CACHE[path]
    if not path.is_file():
        raise DatasetError(f"{path}: the MNIST digits that ship with the app are missing. {SAMPLE_HELP}")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != _sample_sha256():
        raise DatasetError(f"{path}: damaged or altered (its sha256 does not match data/manifest.json). {SAMPLE_HELP}")
    import io

    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in SAMPLE_KEYS}
    except (OSError, ValueError, KeyError, zlib.error) as e:  # not with a matching checksum, but never crash
        raise DatasetError(f"{path}: unreadable ({e}). {SAMPLE_HELP}") from e
    for a in arrays.values():
        a.setflags(write=False)
    _SAMPLE_CACHE[path] = arrays
    return arrays


def load_sample(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits: ``test`` (the 10,000 MNIST test digits) or ``train`` (10,000 training digits,
    1,000 per class), as read-only uint8 images ``(N, 28, 28)`` and labels ``(N,)``.

    The file is checked against ``data/manifest.json`` once per process; a missing, damaged or altered file
    raises DatasetError naming the file and how to restore it.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    a = _sample_arrays()
    return a[f"{split}_images"], a[f"{split}_labels"]


def sample_train_index() -> np.ndarray:
    """Where each shipped training digit sits in MNIST's 60,000-image training file: ``(10000,)`` int32."""
    return _sample_arrays()["train_index"]
