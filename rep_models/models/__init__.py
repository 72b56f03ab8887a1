"""The registry: a model's name -> its class, found rather than listed. Every module here but ``base`` (and
any ``_private`` helper) holds one model: the ``Model`` subclass that no other class of that module derives
from, registered under the module's name (``linear_ae.py`` -> ``"linear_ae"``). A new model is one file."""
from __future__ import annotations

import importlib
import pkgutil

from .base import Model


def _discover() -> dict[str, type[Model]]:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        own = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, Model) and c.__module__ == module.__name__]
        leaves = [c for c in own if not any(o is not c and issubclass(o, c) for o in own)]  # GAN, not its GANBase
        if len(leaves) != 1:
            raise ImportError(f"rep_models/models/{info.name}.py must define one model class, found {[c.__name__ for c in leaves]}")
        found[info.name] = leaves[0]
    return found


REGISTRY: dict[str, type[Model]] = _discover()


def build(name: str, **config):
    """A fresh model of the registered ``name`` with ``config`` overrides."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name](**config)
