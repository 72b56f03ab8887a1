"""The registry: a model's name -> its class. A new model is one file and one line here."""
from .cdcgan import CDCGAN
from .classifier import Classifier
from .contractive_ae import ContractiveAE
from .contrastive import ContrastiveEncoder
from .conv_ae import ConvAE
from .cvae import CVAE
from .dcgan import DCGAN
from .denoising_ae import DenoisingAE
from .gan import GAN
from .linear_ae import LinearAE
from .recurrent_ae import RecurrentAE
from .sda import SDA
from .sparse_ae import SparseAE
from .stacked_ae import StackedAE
from .vae import VAE

REGISTRY = {
    "linear_ae": LinearAE,
    "stacked_ae": StackedAE,
    "conv_ae": ConvAE,
    "recurrent_ae": RecurrentAE,
    "denoising_ae": DenoisingAE,
    "sparse_ae": SparseAE,
    "contractive_ae": ContractiveAE,
    "vae": VAE,
    "cvae": CVAE,
    "gan": GAN,
    "dcgan": DCGAN,
    "cdcgan": CDCGAN,
    "classifier": Classifier,
    "sda": SDA,
    "contrastive": ContrastiveEncoder,
}


def build(name: str, **config):
    """A fresh model of the registered ``name`` with ``config`` overrides."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name](**config)
