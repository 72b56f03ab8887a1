"""The recipes of every shipped model (what else the zoo knows of each is in ``rep_models.catalogue``): ``python -m rep_models.train NAME`` trains NAME from its recipe.

A recipe names the registered model, its config overrides and its training options; anything given on
the command line overrides the recipe. Recipes store their weights as fp16 (``"fp16": False`` keeps fp32);
``"int8_min": N`` also stores each matrix of at least N elements as int8 rows with an fp16 scale per row
(the few big fully connected layers that make up most of a file). The app and the metrics compute in fp32.
"""
from __future__ import annotations

INT8_MIN = 1 << 18  # 262,144 elements: the 512x3136 layers of the VAEs, the 1000-unit layers of the SdA

ZOO: dict[str, dict] = {
    "classifier": {"model": "classifier", "train": {"epochs": 6}},
    "linear_ae": {"model": "linear_ae", "config": {"latent_dim": 32}, "train": {"epochs": 40, "lr": 3e-3}},
    "stacked_ae": {"model": "stacked_ae", "config": {"tied": True}, "train": {"epochs": 20, "pretrain_epochs": 2}},
    "conv_ae": {"model": "conv_ae", "train": {"epochs": 10}},
    "recurrent_ae": {"model": "recurrent_ae", "config": {"hidden": 256, "bidirectional": True}, "train": {"epochs": 15}},
    # Half of every batch from 40,000 training digits made into upload files and put through the app's path
    # (rep_models.uploads.training_pairs): smooth scans, JPEG and photos change the noise on the way to 28x28.
    "denoising_ae": {"model": "denoising_ae", "config": {"channels": 24, "upload_share": 0.5, "upload_pairs": 40000},
                     "train": {"epochs": 24}},
    "sparse_ae": {"model": "sparse_ae", "train": {"epochs": 15}, "int8_min": INT8_MIN},
    "contractive_ae": {"model": "contractive_ae", "config": {"lam": 1e-3}, "train": {"epochs": 15}, "int8_min": INT8_MIN},
    # The unpenalised twin of contractive_ae, the reference its Jacobian norm is compared with.
    "contractive_ae_lambda0": {"model": "contractive_ae", "config": {"lam": 0.0}, "train": {"epochs": 15}, "int8_min": INT8_MIN},
    "vae": {"model": "vae", "config": {"depth": 2}, "train": {"epochs": 30}, "int8_min": INT8_MIN},
    "vae_2d": {"model": "vae", "config": {"latent_dim": 2}, "train": {"epochs": 20}, "int8_min": INT8_MIN},
    "beta_vae": {"model": "vae", "config": {"latent_dim": 10, "beta": 4.0, "channels": 16, "hidden": 256}, "train": {"epochs": 12}},
    # A 4-d style code (not 16) and beta = 2 leave the digit to the label: the code has too little room to
    # carry it, so the decoder cannot ignore the label (agreement 90.6 % at beta = 1, 97.5 % at beta = 2).
    "cvae": {"model": "cvae", "config": {"latent_dim": 4, "channels": 16, "hidden": 256, "beta": 2.0}, "train": {"epochs": 15}},
    # SimCLR: two moved views of each image, no decoder; the few-label comparison's representation learner.
    "contrastive": {"model": "contrastive", "train": {"epochs": 8}, "int8_min": INT8_MIN},
    "gan": {"model": "gan", "train": {"epochs": 20}, "int8_min": INT8_MIN},
    # Self-conditioned on 10 k-means clusters of the shipped contrastive encoder's codes (no labels): train contrastive first.
    "dcgan": {"model": "dcgan", "config": {"ngf": 32, "ndf": 32, "ema": 0.999, "minibatch_std": True, "clusters": 10}, "train": {"epochs": 12}},
    # Style-based (StyleGAN2's weight demodulation), self-conditioned like the DCGAN but on 10 clusters found in a UMAP
    # embedding of the contrastive codes (purer: 96 % vs 84 %); the DCGAN's discriminator; the generator's equalized
    # layers at 10x the discriminator's learning rate (rep_models/models/stylegan.py says what was measured).
    "stylegan": {"model": "stylegan", "config": {"style": "demod", "channels": [64, 32, 16], "d_arch": "dcgan", "ndf": 32,
                                                 "clusters": 10, "cluster_umap": 8, "g_lr_scale": 10},
                 "train": {"epochs": 12, "lr": 2e-4}},
    # Persistent contrastive divergence, one Gibbs step per batch, 1,000 chains (with 100 the samples' class shares
    # rest on 100 chains: 3 points of noise each). Weight decay keeps the chains mixing: the largest digit's share of
    # 2,000 samples was 25.5 % without it (100 chains), 15.4 % (1,000 chains), 12.9 / 15.6 / 12.3 % at 2e-4 / 5e-4 / 1e-3.
    # W stored as int8 rows, the chains as bits; the bars are measured on the stored weights.
    "rbm": {"model": "rbm", "config": {"weight_decay": 1e-3, "n_chains": 1000}, "train": {"epochs": 30}, "int8_min": INT8_MIN},
    # Hinton et al. (2006): RBMs stacked greedily, each trained (PCD-1, as the RBM above) on the sampled hidden units
    # of the frozen layers below; its top layer's features go to Few labels. Both matrices as int8 rows.
    "dbn": {"model": "dbn", "config": {"hidden": [500, 500], "weight_decay": 1e-3, "n_chains": 1000},
            "train": {"epochs": 20, "pretrain_epochs": 20}, "int8_min": 1 << 17},
    # The Lesson's two answers to "is a perfect reconstruction a good autoencoder?" (rep_models.lesson). Overcomplete:
    # a 1,568-number code for 784 pixels, no downsampling, so it can all but copy its input.
    "overcomplete_ae": {"model": "overcomplete_ae", "train": {"epochs": 3}},
    # A deep autoencoder squeezed to one number, trained on 30 digits until it knows each by its number (1,000 full-batch
    # steps an epoch on the same 30); new digits get one of the memorised ones back. The 30 are the first of the shipped
    # sample's training digits, so the app can show them (rep_models.lesson.memory_digits). Measured before choosing
    # (through this trainer, or 20,000-50,000 steps of plain Adam): 100 digits stall near an error of 0.025 with 60-74 %
    # of them given back as themselves; 50, 0.013-0.022 and 74-94 % depending on the seed; 30, 0.014 and 97-100 %
    # (seeds 0 and 1). fp16: as int8 rows the 100 digits' error went from 0.025 to 0.043.
    "memoriser_ae": {"model": "stacked_ae", "config": {"hidden": [128, 64], "latent_dim": 1, "tied": False},
                     "train": {"epochs": 20, "lr": 3e-3, "limit": 30, "batch_size": 30, "min_steps_per_epoch": 1000,
                               "pretrain_epochs": 0, "data_source": "sample"}},
    "cdcgan": {"model": "cdcgan", "config": {"ngf": 32, "ndf": 32}, "train": {"epochs": 12}},
    "sda": {"model": "sda", "config": {"shift": 2}, "train": {"epochs": 20, "pretrain_epochs": 3}, "int8_min": INT8_MIN},
    # 100 labels spread over a 10-NN graph of the pretrained codes (rep_models.semi), then fine-tuned on.
    "sda_100": {"model": "sda", "config": {"shift": 2, "propagate_labels": True},
                "train": {"epochs": 15, "pretrain_epochs": 3, "labels": 100}, "int8_min": INT8_MIN},
}
