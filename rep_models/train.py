"""Train any registered model, or any shipped recipe, from the command line.

    python -m rep_models.train conv_ae --epochs 10
    python -m rep_models.train vae_2d                 # a recipe from rep_models/zoo.py
    python -m rep_models.train sda_100 --labels 100
    python -m rep_models.train conv_ae --data-source sample --epochs 1   # the shipped 10,000 digits, offline
    torchrun --nproc-per-node 2 -m rep_models.train conv_ae   # DistributedDataParallel, gloo on CPU

One loop serves every model: ``standard`` models minimise ``loss(batch)["loss"]``; ``gan`` models
alternate a discriminator and a generator step; models with ``pretrain_layers`` are first pretrained
greedily, one layer at a time. Data live in memory as tensors, so batching is indexing (no per-sample
Python). Writes ``OUT/NAME.safetensors`` and ``OUT/NAME.json``; ``--resume`` continues from the training
state saved after each epoch in ``OUT/NAME.state.safetensors``.

The code lives in ``rep_models/training/``; this module is the command's entry point and keeps the names
other code imports from it.
"""
from __future__ import annotations

from .training import LossModule, TrainOptions, epoch_batches, fit, main, resolve, train, validate
from .training.optim import Optimisers as _Optim

__all__ = ["LossModule", "TrainOptions", "_Optim", "epoch_batches", "fit", "main", "resolve", "train", "validate"]

if __name__ == "__main__":
    main()
