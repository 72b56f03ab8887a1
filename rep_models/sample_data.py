"""Build the MNIST sample that ships with the app (``data/mnist_sample.npz`` and ``data/manifest.json``).

    python -m rep_models.sample_data [--data DIR] [--out DIR]

Reads the full MNIST through :mod:`rep_models.data`'s usual search order (or ``--data``).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from . import data


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of a compressed ``.npz`` of ``arrays`` (read back by ``np.load``, no pickle), the same bytes for
    the same arrays: ``np.savez_compressed`` stamps the current time into the zip, this a fixed date."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, a in arrays.items():
            member = io.BytesIO()
            a = np.asarray(a)  # (np.ascontiguousarray would turn a 0-d array into shape (1,))
            np.lib.format.write_array(member, np.ascontiguousarray(a) if a.ndim else a, allow_pickle=False)
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1998, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def build_sample(root=None, out_dir: str | os.PathLike | None = None) -> Path:
    """Write the shipped sample from the full MNIST: the test set, and ``data.SAMPLE_TRAIN`` training digits drawn
    class-balanced (seed 0) from the training split the models train on (the 5,000 validation digits excluded).
    Also writes the sample's sha256 into ``manifest.json`` beside it. Deterministic: the same bytes every time."""
    out = Path(out_dir) if out_dir is not None else data.SHIPPED_DIR
    test_x, test_y = data.load_arrays("mnist", "test", root)
    train_x, train_y = data.load_arrays("mnist", "train", root)
    perm = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(0))
    train_part = perm[5000:].sort().values  # the same split as load_tensors("mnist", "train")
    pick = data.balanced_subset(torch.from_numpy(train_y[train_part.numpy()].astype(np.int64)), data.SAMPLE_TRAIN, seed=0)
    index = train_part[pick].numpy().astype(np.int32)
    arrays = {"test_images": test_x, "test_labels": test_y, "train_images": train_x[index], "train_labels": train_y[index],
              "train_index": index}
    raw = npz_bytes({k: arrays[k] for k in data.SAMPLE_KEYS})
    out.mkdir(parents=True, exist_ok=True)
    path = out / data.SAMPLE_FILE
    path.write_bytes(raw)
    manifest = {"files": {data.SAMPLE_FILE: hashlib.sha256(raw).hexdigest()},
                "source": "MNIST (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0; built by python -m rep_models.sample_data"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    data._SAMPLE_CACHE.clear()
    return path


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rep_models.sample_data", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="folder with the full MNIST files (else the usual search order)")
    p.add_argument("--out", help=f"output folder (default {data.SHIPPED_DIR})")
    a = p.parse_args(argv)
    try:
        print(build_sample(a.data, a.out))
    except data.DatasetError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
