"""Training: ``python -m rep_models.train NAME`` (:func:`train`, :func:`main`) and in-process runs (:func:`fit`).

- ``options.py``: the training options and what a recipe name resolves to;
- ``steps.py``: one step per kind of model (standard, GAN, layer-wise);
- ``loop.py``: the one loop over epochs and batches, validation, callbacks, :func:`fit`;
- ``recipes.py``: the data a recipe trains on (few labels, clusters, upload pairs, spread labels);
- ``state.py``: the resumable state after every epoch;
- ``run.py``: :func:`train`, one run from recipe to card; ``cli.py``: the command line;
- ``optim.py``, ``distributed.py``: optimisers and schedules; torchrun's ranks.
"""
from .cli import main
from .loop import Callbacks, Phase, epoch_batches, fit, run_phase, validate
from .optim import Optimisers
from .options import TrainOptions, resolve
from .run import train
from .steps import LossModule

__all__ = ["Callbacks", "LossModule", "Optimisers", "Phase", "TrainOptions", "epoch_batches", "fit", "main", "resolve", "run_phase",
           "train", "validate"]
