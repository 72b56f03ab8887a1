"""The catalogue of the shipped zoo: which models exist and what each can do, in one place.

Every other list of the zoo's names derives from :data:`CATALOGUE`: the pages' model choices, the home page's
cards, the evaluation's families, the quality bars and the tests' bar table. A model's entry says

- ``recipe``: how ``python -m rep_models.train NAME`` makes it (the registered class, config, training options and
  storage; :mod:`rep_models.zoo` holds them and is read here),
- ``needs``: other shipped models it cannot be trained or measured without,
- ``title`` / ``short`` / ``what`` / ``group``: how the app names and describes it,
- ``roles``: what the app does with it (:data:`ROLES`),
- ``bars``: its quality bars as data (:class:`Bar`), checked by ``rep_models.bars.check_bars``.

Adding a model: a model file in ``rep_models/models/`` (and its registry line), a recipe in ``zoo.py``, an entry
here (DEVELOPERS.md has the checklist).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

from .zoo import ZOO

# What the app does with a model, by role:
ROLES = {
    "reconstructor": "rebuilds a digit: shown side by side on the Draw page",
    "encoder": "gives a code per digit: projected on the Latent map, compared on Few labels",
    "anomaly_reference": "its reconstruction error is the Draw page's anomaly score",
    "browser_decodable": "its decoder runs in the page for the VAE sliders",
    "in_page": "exported to ONNX from its weights when the app needs it (rep_models.onnx_export) and run in the page on onnxruntime-web",
    "latent_explorer": "a VAE whose latent space the VAE page explores",
    "generator": "samples new digits on the GAN page",
    "mode_collapse": "its class histogram is in the GAN studio's mode-collapse comparison (shipped precomputed)",
    "classifier": "names digits",
    "fine_tuned": "pretrained without labels, then fine-tuned with the labels its recipe keeps: a point on Few labels' curves",
    "denoiser": "cleans noisy digits on the Denoise page",
    "features": "its top layer's features are compared on Few labels beside the encoders' codes (no Latent map: no room for its reference codes)",
    "lesson": "answers one of the Lesson's exercises: a model that shows what can go wrong",
    "energy_model": "an energy over the pixels: the Boltzmann machines page's Gibbs chains and filters, its free energy an anomaly score on Draw",
}
GROUPS = {  # the home page's groups, in order, with one line each
    "Autoencoders": "Squeeze a digit through a small code and rebuild it: what survives the bottleneck is what the network learned.",
    "VAEs": "Autoencoders whose codes form a smooth map you can sample from and walk through.",
    "GANs": "A generator learns to fool a critic: new digits from random numbers.",
    "Classifiers": "Supervised models: they name the digit (and help measure the others).",
    "Encoders": "A code learned without a decoder: compare its map and its few-label accuracy with the autoencoders'.",
    "Boltzmann machines": "An energy over pixels and hidden units: sampling from it means running a Gibbs chain until it forgets where it began.",
}
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Bar:
    """A quality bar: the evaluation's measure ``key`` compared with ``threshold`` by ``op``.

    ``minus`` = (model, key): the measure is this model's value minus that one's (a comparison between models);
    ``over`` = (model, key): divided by it. ``within`` = (low, high) replaces ``op`` and ``threshold``.
    """

    key: str
    label: str
    op: str = "<="
    threshold: float = 0.0
    minus: tuple[str, str] | None = None
    over: tuple[str, str] | None = None
    within: tuple[float, float] | None = None

    def describe(self) -> str:
        return f"within {self.within[0]}..{self.within[1]}" if self.within else f"{self.op} {self.threshold:g}"

    def passes(self, value) -> bool:
        if value is None or value != value:  # missing or NaN
            return False
        if self.within:
            return self.within[0] <= value <= self.within[1]
        return _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    short: str
    group: str
    what: str
    roles: frozenset[str] = frozenset()
    needs: tuple[str, ...] = ()
    bars: tuple[Bar, ...] = ()
    label: str = ""  # a longer label for model pickers (default: the title)
    shown: bool = True  # on the home page (False: a reference model only the evaluation uses)

    @property
    def recipe(self) -> dict:
        return ZOO[self.name]

    @property
    def picker_label(self) -> str:
        return self.label or self.title


def _e(name, title, short, group, what, roles=(), needs=(), bars=(), label="", shown=True):
    return Entry(name, title, short, group, what, frozenset(roles), tuple(needs), tuple(bars), label, shown)


_MSE = "test MSE / PCA(32) MSE"
CATALOGUE: dict[str, Entry] = {e.name: e for e in [
    _e("classifier", "Digit classifier", "Classifier", "Classifiers", "A small CNN that names the digit; also scores the generators.",
       ["classifier", "in_page"], bars=[Bar("test_accuracy", "test accuracy", ">=", 0.993)]),
    _e("linear_ae", "Linear autoencoder", "Linear", "Autoencoders", "No non-linearity: it learns the same subspace as PCA.",
       ["reconstructor", "encoder"],
       bars=[Bar("mse_over_pca32", _MSE, "<=", 1.02),
             Bar("largest_angle_to_pca_deg", "largest principal angle to PCA(32) subspace (deg)", "<=", 10)]),
    _e("stacked_ae", "Stacked autoencoder", "Stacked", "Autoencoders", "Deep fully connected layers, pretrained one layer at a time.",
       ["reconstructor", "encoder"], bars=[Bar("mse_over_pca32", _MSE, "<=", 0.6)]),
    _e("sparse_ae", "Sparse autoencoder", "Sparse", "Autoencoders", "Few code units may be active at once, so each learns a stroke-like part.",
       ["reconstructor", "encoder"],
       bars=[Bar("activation_over_rho", "mean code activation / rho", within=(0.8, 1.2)), Bar("mse_over_pca32", _MSE, "<=", 1)]),
    _e("contractive_ae", "Contractive autoencoder", "Contractive", "Autoencoders",
       "Penalises how much the code moves when the input moves: robust features.", ["reconstructor", "encoder"],
       needs=["contractive_ae_lambda0"],
       bars=[Bar("jacobian_frobenius_mean", "mean Jacobian Frobenius norm / unpenalised twin's", "<=", 0.5,
                 over=("contractive_ae_lambda0", "jacobian_frobenius_mean")), Bar("mse_over_pca32", _MSE, "<=", 1)]),
    _e("conv_ae", "Convolutional autoencoder", "Conv", "Autoencoders", "Convolutions share weights across the image: sharp reconstructions.",
       ["reconstructor", "encoder", "anomaly_reference"], bars=[Bar("mse_over_pca32", _MSE, "<=", 0.3)]),
    _e("recurrent_ae", "Recurrent autoencoder", "Recurrent", "Autoencoders",
       "Reads the digit row by row with a recurrent network, then writes it back.", ["reconstructor", "encoder"],
       bars=[Bar("mse_over_pca32", _MSE, "<=", 0.6)]),
    _e("denoising_ae", "Denoising autoencoder", "Denoising", "Autoencoders", "Trained to undo noise: it learns what digits look like.",
       ["reconstructor", "denoiser"],
       bars=[Bar("psnr_gaussian_0.1", "PSNR Gaussian sigma=0.1 (dB)", ">=", 28), Bar("psnr_gaussian_0.3", "PSNR Gaussian sigma=0.3 (dB)", ">=", 22),
             Bar("psnr_gaussian_0.5", "PSNR Gaussian sigma=0.5 (dB)", ">=", 19.5),
             Bar("psnr_salt_pepper_0.2", "PSNR salt-and-pepper 20% (dB)", ">=", 24),
             Bar("psnr_salt_pepper_0.2", "PSNR salt-and-pepper 20% minus 3x3 median (dB)", ">", 0,
                 minus=("denoising_ae", "psnr_salt_pepper_0.2_median3"))]),
    _e("contractive_ae_lambda0", "Contractive autoencoder, no penalty", "Contractive, λ = 0", "Autoencoders",
       "The contractive autoencoder's unpenalised twin: the reference its Jacobian norm is compared with.", shown=False),
    # The Lesson's pair (rep_models.lesson): a perfect reconstruction is not the goal. Bars: the overcomplete AE
    # rebuilds digits better than the conv AE yet its codes do no better than the pixels with 100 labels; the
    # memoriser rebuilds the 30 digits it saw far better than new ones, each seen digit with a number of its own.
    _e("overcomplete_ae", "Overcomplete autoencoder", "Overcomplete", "Autoencoders",
       "Its code (1,568 numbers) is wider than the image (784 pixels): it can simply copy, and learns nothing about digits.",
       ["lesson"], label="Overcomplete AE (1,568-number code)",
       bars=[Bar("test_mse", "test MSE minus the conv AE's", "<", 0, minus=("conv_ae", "test_mse")),
             Bar("few_label_100_error", "codes + logistic regression, 100 labels: test error minus raw pixels'", ">=", -0.01,
                 minus=("pixels", "few_label_100_error"))]),
    _e("memoriser_ae", "Deep autoencoder, one-number code", "1-number code", "Autoencoders",
       "A deep autoencoder squeezed to a single number, trained on 30 digits: it learns them by heart and fails on new ones.",
       ["lesson"], label="Deep AE with a 1-number code (30 digits)",
       bars=[Bar("test_mse", "test MSE / MSE on its 30 training digits", ">=", 3, over=("memoriser_ae", "train_mse")),
             Bar("recalled", "its 30 training digits given back as themselves (nearest of the 30)", ">=", 0.9),
             Bar("answered_from_memory", "new digits rebuilt closer to a memorised digit than to themselves", ">=", 0.5)]),
    _e("vae", "Variational autoencoder", "VAE", "VAEs", "A smooth, probabilistic latent space you can sample and walk through.",
       ["reconstructor", "encoder", "browser_decodable", "latent_explorer", "in_page"], needs=["classifier"], label="VAE (32-d)",
       bars=[Bar("neg_elbo", "test -ELBO (nats)", "<=", 95)]),
    _e("vae_2d", "2-D VAE", "2-D VAE", "VAEs", "Only two latent numbers: the whole digit manifold fits on one screen.",
       ["reconstructor", "encoder", "browser_decodable", "latent_explorer", "in_page"], needs=["classifier"],
       bars=[Bar("neg_elbo", "test -ELBO (nats)", "<=", 145)]),
    _e("beta_vae", "β-VAE", "β-VAE", "VAEs", "A stronger pull to the prior: more disentangled, blurrier.",
       ["reconstructor", "encoder", "browser_decodable", "latent_explorer", "in_page"], needs=["classifier"], label="β-VAE (10-d, β = 4)"),
    _e("cvae", "Conditional VAE", "CVAE", "VAEs", "You pick the digit; the latent code holds only the style.", ["in_page"], needs=["classifier"],
       bars=[Bar("conditional_agreement", "classifier agrees with requested digit", ">=", 0.95)]),
    _e("gan", "MLP GAN", "MLP GAN", "GANs", "A generator and a critic trained against each other (fully connected).", ["generator", "in_page", "mode_collapse"],
       needs=["classifier"]),
    _e("dcgan", "DCGAN", "DCGAN", "GANs",
       "A convolutional GAN. It sorted the digits into 10 clusters by itself (no labels) and draws from one cluster at a time.",
       ["generator", "in_page", "mode_collapse"], needs=["classifier", "contrastive", "vae", "gan"], label="DCGAN (convolutional)",
       bars=[Bar("samples_min_class_fraction", "smallest class fraction of samples", ">=", 0.06),
             Bar("samples_max_class_fraction", "largest class fraction of samples", "<=", 0.14),
             Bar("samples_mean_top_prob", "mean top-class probability of samples", ">=", 0.9),
             Bar("frechet_distance", "Frechet distance minus vae's", "<", 0, minus=("vae", "frechet_distance")),
             Bar("frechet_distance", "Frechet distance minus gan's", "<", 0, minus=("gan", "frechet_distance"))]),
    _e("stylegan", "Style-based GAN (StyleGAN)", "StyleGAN", "GANs",
       "Each layer of the generator gets its own style: mix the coarse styles of one digit with the fine styles of another.",
       ["generator", "in_page", "mode_collapse"], needs=["classifier", "contrastive"], label="StyleGAN (style-based)",
       bars=[Bar("samples_min_class_fraction", "smallest class fraction of samples", ">=", 0.06),
             Bar("samples_max_class_fraction", "largest class fraction of samples", "<=", 0.14),
             Bar("samples_mean_top_prob", "mean top-class probability of samples", ">=", 0.93),
             Bar("frechet_distance", "Frechet distance in the classifier's features", "<=", 13),
             Bar("style_mixing_agreement", "coarse styles of A, fine of B: read as A's digit", ">=", 0.8),
             Bar("style_mixing_pixel_diff", "coarse styles of A, fine of B: mean pixel difference from A", ">=", 0.02),
             Bar("file_mb", "file size (MB)", "<=", 8)]),
    # Bars: Salakhutdinov and Murray (2008) report about -86 nats for a 500-unit RBM trained with CD-25 (AIS, 14,500
    # steps); -105 leaves room for PCD-1 on this CPU's budget. Samples from the training's persistent chains.
    _e("rbm", "Restricted Boltzmann machine", "RBM", "Boltzmann machines",
       "500 binary hidden units that explain the pixels; it draws digits by Gibbs sampling, one pixel layer at a time.",
       ["energy_model"], needs=["classifier"], label="RBM (500 hidden units)",
       bars=[Bar("test_log_likelihood_ais", "test log-likelihood by AIS, nats (binarized digits)", ">=", -105),
             Bar("samples_min_class_fraction", "smallest class fraction of samples after 1,000 Gibbs steps", ">=", 0.05),
             Bar("samples_max_class_fraction", "largest class fraction of samples after 1,000 Gibbs steps", "<=", 0.15)]),
    # No threshold in the issue for its features: the bar asks only that they beat raw pixels with 100 labels; its
    # samples are held to the RBM's bars.
    _e("dbn", "Deep belief network", "DBN", "Boltzmann machines",
       "Two RBMs stacked and trained one at a time, each on the hidden units of the one below (Hinton, 2006).",
       ["features"], needs=["classifier"], label="DBN (500-500)",
       bars=[Bar("few_label_100_error", "top-layer features + logistic regression, 100 labels: test error minus raw pixels'",
                 "<", 0, minus=("pixels", "few_label_100_error")),
             Bar("samples_min_class_fraction", "smallest class fraction of samples (top RBM's chains, 1,000 Gibbs steps, passed down)", ">=", 0.05),
             Bar("samples_max_class_fraction", "largest class fraction of samples (top RBM's chains, 1,000 Gibbs steps, passed down)", "<=", 0.15)]),
    _e("cdcgan", "Conditional DCGAN", "cDCGAN", "GANs", "A DCGAN told which digit to draw.", ["generator", "in_page"], needs=["classifier"],
       bars=[Bar("conditional_agreement", "classifier agrees with requested digit", ">=", 0.97)]),
    _e("sda", "Stacked denoising AE (fine-tuned)", "SdA", "Classifiers", "Pretrained without labels, then fine-tuned to classify.",
       ["classifier", "fine_tuned"], bars=[Bar("test_error", "test error (all labels)", "<=", 0.014)]),
    _e("sda_100", "Stacked denoising AE, 100 labels", "SdA, 100 labels", "Classifiers",
       "The same, fine-tuned with only 10 labelled digits per class.", ["classifier", "fine_tuned"],
       bars=[Bar("test_error", "test error (100 labels)", "<=", 0.10)]),
    _e("contrastive", "Contrastive encoder (SimCLR)", "Contrastive", "Encoders",
       "Two moved copies of a digit must get close codes: it keeps what the digit is, not how it is drawn.", ["encoder"]),
]}

@dataclass(frozen=True)
class LiveRecipe:
    """A small model the Train-live page trains in seconds per epoch on a CPU (a fresh copy, never a shipped file)."""

    title: str
    model: str  # the registered class
    config: dict
    lr: float


LIVE_RECIPES: dict[str, LiveRecipe] = {
    "linear_ae": LiveRecipe("Linear autoencoder", "linear_ae", {"latent_dim": 32}, 3e-3),
    "stacked_ae": LiveRecipe("Stacked autoencoder", "stacked_ae", {"tied": True}, 1e-3),
    "conv_ae": LiveRecipe("Convolutional autoencoder", "conv_ae", {}, 1e-3),
    "vae": LiveRecipe("Variational autoencoder (16-d)", "vae", {"latent_dim": 16, "channels": 16, "hidden": 256}, 1e-3),
    "dcgan": LiveRecipe("DCGAN", "dcgan", {"ngf": 32, "ndf": 32}, 2e-4),
}

# Bars on the zoo as a whole (the best of several models), checked by rep_models.bars.check_bars.
BEST_ENCODER_FEW_LABELS = Bar("few_label_100_error", "best encoder: frozen codes + logistic regression, 100 labels, test error", "<=", 0.10)
BEST_ANOMALY_AUROC = Bar("anomaly_auroc_fashion", "best anomaly AUROC, MNIST vs Fashion-MNIST test", ">=", 0.99)
MAP_BARS = {"conv_ae": (Bar("knn10_accuracy", "UMAP 10-NN accuracy (2-D)", ">=", 0.95), Bar("trustworthiness", "UMAP trustworthiness (k=10)", ">=", 0.95))}
# The Draw page's not-a-digit detector (rep_models.ood), measured on inputs made the way users send them
# (rep_models.ood_sets): the measures are in the classifier's entry (it reads the classifier's features), the bars
# are reported as the detector's: (its name in the bars, the entry its measures are in, the bars).
_PATH = "users' path"
NOT_A_DIGIT_BARS = ("not-a-digit detector", "classifier", (
    Bar("not_a_digit_auroc_fashion", f"{_PATH}: AUROC Fashion-MNIST vs MNIST test digits (pictures, photos)", ">=", 0.99),
    Bar("not_a_digit_auroc_letters", f"{_PATH}: AUROC font letters vs MNIST test digits (pictures, photos)", ">=", 0.95),
    Bar("not_a_digit_auroc_handletters", f"{_PATH}: AUROC hand-drawn letters vs MNIST test digits (drawn, photos)", ">=", 0.95),
    Bar("not_a_digit_flagged_fashion", f"{_PATH}: share of Fashion-MNIST items flagged (lower of pictures, photos)", ">=", 0.95),
    Bar("not_a_digit_flagged_letters", f"{_PATH}: share of font letters flagged (lower of pictures, photos)", ">=", 0.80),
    Bar("not_a_digit_flagged_handletters", f"{_PATH}: share of hand-drawn letters flagged (lower of drawn, photos)", ">=", 0.80),
    Bar("not_a_digit_flagged_digits", f"{_PATH}: share of MNIST test digits flagged (highest of drawn, pictures, photos)", "<=", 0.02),
))


def with_role(role: str) -> list[str]:
    """The names of the models with ``role``, in catalogue order (the order the app shows them in)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {sorted(ROLES)}")
    return [n for n, e in CATALOGUE.items() if role in e.roles]


def the(role: str) -> str:
    """The one model with ``role`` (e.g. the anomaly reference)."""
    names = with_role(role)
    if len(names) != 1:
        raise LookupError(f"expected one model with role {role!r}, found {names}")
    return names[0]


def in_group(group: str) -> list[str]:
    """The models the home page shows under ``group`` (one of :data:`GROUPS`), in catalogue order."""
    return [n for n, e in CATALOGUE.items() if e.group == group and e.shown]


def entry(name: str) -> Entry:
    if name not in CATALOGUE:
        raise KeyError(f"{name!r} is not in the catalogue; expected one of {sorted(CATALOGUE)}")
    return CATALOGUE[name]


def train_order() -> list[str]:
    """Every model after the models it needs (the order scripts/train_zoo.sh trains them in)."""
    done: list[str] = []

    def visit(n: str, path: tuple[str, ...] = ()) -> None:
        if n in done:
            return
        if n in path:
            raise ValueError(f"the catalogue's needs form a cycle: {' -> '.join(path + (n,))}")
        for m in CATALOGUE[n].needs:
            visit(m, path + (n,))
        done.append(n)

    for n in CATALOGUE:
        visit(n)
    return done


# The shipped encoders whose codes the app projects and compares (the autoencoders and VAEs, and one encoder
# trained without a decoder, to show what a code learns when it need not redraw the digit).
ENCODERS = with_role("encoder")
# The classifiers pretrained without labels and fine-tuned with some (the SdA, with all labels and with 100): Few labels
# compares them, at the label count of their recipe, with the encoders' frozen codes.
FINE_TUNED = with_role("fine_tuned")
# Every representation Few labels compares by its frozen codes: the encoders, then the models kept off the Latent map.
FEW_LABEL_ENCODERS = [*ENCODERS, *with_role("features")]
TRAIN_ORDER = train_order()

# The models the Lesson's steps rebuild digits with, side by side (ui/lesson.py; a step's id -> models, in the order
# shown). "complete" is the undercomplete/overcomplete comparison: smallest code first.
LESSON_ROWS: dict[str, tuple[str, ...]] = {
    "pca": ("linear_ae",),
    "stacked": ("linear_ae", "stacked_ae"),
    "conv_rnn": ("stacked_ae", "conv_ae", "recurrent_ae"),
    "sparse": ("sparse_ae",),
    "ex_perfect": ("conv_ae", "overcomplete_ae", "memoriser_ae"),
    "ex_complete": ("memoriser_ae", "conv_ae", "overcomplete_ae"),
}
