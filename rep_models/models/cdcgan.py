"""Class-conditional DCGAN: the one-hot digit joins the generator's noise and the discriminator's input."""
from dataclasses import dataclass

from .dcgan import DCGAN, DCGANConfig


@dataclass
class CDCGANConfig(DCGANConfig):
    n_classes: int = 10


class CDCGAN(DCGAN):
    Config = CDCGANConfig
