"""Conditional VAE: the VAE with the digit class fed to encoder and decoder, so the code holds the style."""
from dataclasses import dataclass

from .vae import VAE, VAEConfig


@dataclass
class CVAEConfig(VAEConfig):
    latent_dim: int = 16
    n_classes: int = 10


class CVAE(VAE):
    Config = CVAEConfig
