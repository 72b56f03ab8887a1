"""The not-a-digit detector (rep_models.ood) and the inputs it is measured on (rep_models.ood_sets): the sets go
through the Draw page's own input path and are deterministic, the detector's maths, the page's words, and, on the
shipped weights, the bars on fixed subsets of the users' path."""
from __future__ import annotations

import os

import numpy as np
import pytest

from rep_models import checkpoint, ood, ood_sets, strokes
from rep_models.image_decode import decode_data_url, decode_image
from rep_models.preprocess import to_mnist


@pytest.fixture(scope="module")
def fonts():
    """The letter sets' fonts: skip when none is installed (fail under CI, which installs them: .ci/run)."""
    paths = ood_sets.font_paths()
    if not paths:
        msg = f"none of the letter fonts is installed (apt-get install -y {ood_sets.FONT_PACKAGES})"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI must install them", pytrace=False)
        pytest.skip(msg)
    return paths


# ------------------------------------------------------------------------------------------------ the sets

def test_letters_shaped_like_digits_are_left_out():
    assert set("OoIliSsZzbgq") <= set(ood_sets.LOOKALIKE_LETTERS)  # the list the detector is not asked to flag
    assert not set(ood_sets.LETTERS) & set(ood_sets.LOOKALIKE_LETTERS)
    assert sorted(ood_sets.LETTERS + "".join(ood_sets.LOOKALIKE_LETTERS)) == sorted(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    assert all(v[0].isdigit() for v in ood_sets.LOOKALIKE_LETTERS.values())  # each says which digit it reads as


def test_fonts_are_debians_dejavu_and_liberation(fonts):
    assert all(p.name in ood_sets.FONT_FILES for p in fonts)
    assert len(fonts) >= 2


@pytest.mark.parametrize("name", ["shapes_drawn", "handletters_photo", "digits_drawn"])
def test_a_set_is_deterministic_and_a_prefix_of_a_larger_one(name):
    a, b = ood_sets.build(name, 4), ood_sets.build(name, 6)
    np.testing.assert_array_equal(a.images, b.images[:4])
    assert a.detail == b.detail[:4] and a.refused == 0
    assert a.images.shape == (4, 28, 28) and a.images.dtype == np.float32
    assert 0 <= a.images.min() and a.images.max() == pytest.approx(1.0)  # to_mnist's strokes reach full white


def test_letters_come_in_several_fonts_and_none_looks_like_a_digit(fonts):
    s = ood_sets.build("letters_image", 40)
    chars = {d.split()[0] for d in s.detail}
    assert not chars & set(ood_sets.LOOKALIKE_LETTERS)
    assert len({d.split()[1] for d in s.detail}) >= min(len(fonts), 8)
    assert len(chars) >= 15


def test_items_arrive_as_the_canvas_sends_them_as_an_image_and_as_a_photo():
    x = np.zeros((28, 28), np.float32)
    x[6:22, 12:16] = 1.0  # a bar
    rng = np.random.default_rng(0)
    ink = ood_sets.enlarged(x, rng)
    url = ood_sets.canvas_url(ink)
    assert url.startswith("data:image/png;base64,")
    assert np.abs(np.asarray(decode_data_url(url), np.float32) / 255 - ink).max() <= 1 / 255 + 1e-6
    drawn = ood_sets.strokes_of(ink, rng)
    assert set(np.unique(drawn)) <= {0.0, 1.0} and drawn.sum() > 0.3 * (ink > 0.5).sum()  # a brush's hard edges
    photo = ood_sets.photo_bytes(ink, rng)
    assert photo[:2] == b"\xff\xd8"  # a JPEG
    assert to_mnist(decode_image(photo)).inverted  # dark ink on light paper
    np.testing.assert_array_equal(ood_sets.through_app(ink, "drawn", rng), to_mnist(decode_data_url(url)).final)  # the page's path
    np.testing.assert_array_equal(ood_sets.through_app(ink, "image", rng), to_mnist(decode_image(ood_sets.png_bytes(ink))).final)
    assert set(ood_sets.CHANNEL) == set(ood_sets.RENDERINGS) and set(ood_sets.CHANNEL.values()) == set(ood.CHANNELS)
    assert "fashion_drawn" not in ood_sets.SETS  # nobody draws a shirt on the canvas


def test_data_set_items_take_given_images_and_labels():
    x = np.zeros((3, 28, 28), np.float32)
    x[:, 8:20, 10:18] = 1
    s = ood_sets.build("digits_image", source_images=x, labels=np.array([7, 1, 4]))
    assert s.detail == ["7", "1", "4"] and len(s.images) == 3
    with pytest.raises(ValueError, match="unknown set"):
        ood_sets.build("digits_scanner")


# -------------------------------------------------------------------------------------------- the detector

def test_gaussians_give_the_likelihood_of_the_most_likely_class_each_with_its_own_covariance():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 60)
    f = rng.normal(size=(600, 5)) @ rng.normal(size=(5, 5)) + y[:, None] * 3.0
    g = ood.Gaussians.fit(f, y)
    q = rng.normal(size=(7, 5)) * 4
    nll, logdets = [], []
    for c in range(10):  # written out: each class's own covariance, shrunk by SHRINK toward its mean variance times I
        fc = f[y == c]
        cov = np.cov(fc.T, bias=True)
        cov = (1 - ood.SHRINK) * cov + (ood.SHRINK + ood.RIDGE) * np.trace(cov) / 5 * np.eye(5)
        ld = np.linalg.slogdet(cov)[1]
        logdets.append(ld)
        nll.append(np.einsum("ij,jk,ik->i", q - fc.mean(0), np.linalg.inv(cov), q - fc.mean(0)) + ld)
    np.testing.assert_allclose(g.distance(q), np.min(nll, 0) - min(logdets) + 1, rtol=1e-9)
    assert (g.distance(q) >= 1).all()
    with pytest.raises(ValueError, match="no training example"):
        ood.Gaussians.fit(f[y < 9], y[y < 9], n_classes=10)


def test_a_class_that_hardly_varies_in_a_direction_counts_it_far():
    # Class 0 spreads along x and is thin along y; class 1 the other way round. A point 1.5 off class 0's mean
    # along y is as far as 15 of its spreads there, though a covariance shared by both classes calls it typical.
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 2)) * [1.0, 0.1]
    b = rng.normal(size=(500, 2)) * [0.1, 1.0] + [20.0, 0.0]
    f, y = np.concatenate([a, b]), np.repeat([0, 1], 500)
    g = ood.Gaussians.fit(f, y)
    near, off = g.distance(np.array([[1.5, 0.0]])), g.distance(np.array([[0.0, 1.5]]))
    assert off[0] > 20 * near[0]


def _toy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), n // 10)
    feats = [rng.normal(size=(n, d)) + y[:, None] for d in (6, 8, 8, 8)]
    return feats, y


def test_fit_calibrates_out_of_fold_and_flags_what_is_far():
    feats, y = _toy()
    det = ood.fit(feats, y, np.arange(len(y)) % ood.FOLDS)
    ref = det.score_features(feats)
    assert det.n_reference == len(y)
    assert np.all(np.diff(det.quantiles) >= 0)
    new, ny = _toy(seed=1)  # fresh draws of the same classes: about 1 % flagged, as calibrated
    assert np.mean(det.flags(det.score_features(new))) <= 0.04
    assert np.mean(det.flags(ref)) <= 0.02  # in-sample scores run a little low: the reference is out of fold
    far = [f + 8.0 * (-1.0) ** np.arange(f.shape[1]) for f in new]  # across the classes' line, not along it
    assert det.flags(det.score_features(far)).all()
    assert det.percentile(det.threshold) == pytest.approx(ood.FLAG_PERCENTILE, abs=0.05)
    again = ood.Detector.from_arrays(det.to_arrays())
    np.testing.assert_allclose(again.score_features(far), det.score_features(far), rtol=1e-4)


def test_the_verdict_says_it_plainly():
    feats, y = _toy()
    det = ood.fit(feats, y, np.arange(len(y)) % ood.FOLDS)
    v = ood.verdict(det.threshold + 5, det, [(4, 0.99), (9, 0.01)])
    assert v.flagged and v.level == "not a digit"
    assert v.headline == "I don't think this is a digit; if it were, it would be a 4."
    assert "not-a-digit score" in v.why and "higher than for all 400 training digits drawn on this canvas" in v.why
    assert "above 99.0% means not a digit" in v.why and "means little" in v.why
    ok = ood.verdict(float(det.quantiles[500]), det, [(7, 0.98)], "upload")
    assert ok.level == "digit" and ok.headline == "This looks like a digit: a 7." and not ok.flagged
    assert "50.0% of 400 training digits uploaded as pictures or photos" in ok.why
    odd = ood.verdict(float(det.quantiles[970]), det, [(3, 0.6)])
    assert odd.level == "unusual" and "3" in odd.headline
    assert "would make this an ordinary digit" in ood.autoencoder_line(68.4, "digit")
    assert ood.channel_of("Draw") == "draw" and ood.channel_of("Upload") == ood.channel_of("Test digit") == "upload"


def test_measure_reports_each_set_against_the_digits_of_its_channel():
    s = {"digits_drawn": np.array([0.0, 1, 2, 3]), "digits_photo": np.array([0.0, 1, 2, 9]), "digits_image": np.array([0.0, 1]),
         "fashion_image": np.array([10.0, 11]), "fashion_photo": np.array([2.5, 7]), "handletters_drawn": np.array([4.0, 0.5]),
         "handdigits_drawn": np.array([0.0, 5.0])}
    m = ood.measure(s, {"draw": 3.5, "upload": 3.5})
    assert m["sets"]["digits_photo"]["flagged"] == 0.25 and m["flagged_digits"] == 0.25
    assert m["sets"]["fashion_image"]["auroc"] == 1.0  # against the uploaded digits only: 9 is above 7, not 10
    assert m["sets"]["fashion_photo"]["auroc"] == pytest.approx(5 / 6) and m["auroc_fashion"] == pytest.approx(5 / 6)
    assert m["flagged_fashion"] == 0.5 and m["flagged_handdigits"] == 0.5
    assert m["sets"]["handletters_drawn"]["auroc"] == pytest.approx(5 / 8)  # against the drawn digits
    assert "auroc" not in m["sets"]["digits_drawn"] and "auroc" not in m["sets"]["handdigits_drawn"]


# ------------------------------------------------------------------------------------ on the shipped weights

@pytest.fixture(scope="module")
def shipped():
    from rep_models import precomputed

    if not checkpoint.PRETRAINED_DIR.joinpath("classifier.json").is_file():
        pytest.skip("the classifier is not shipped")
    arrays = precomputed.load(ood.ITEM)
    assert arrays is not None, f"run: python -m rep_models.precomputed --only {ood.ITEM}"
    return precomputed.app_model("classifier"), ood.detectors(arrays)


def test_plain_and_fast_classifier_give_the_same_features(shipped, mnist_test):
    plain = checkpoint.load_pretrained("classifier", "cpu")
    x = mnist_test[0][:50]
    for a, b in zip(ood.layer_features(plain, x), ood.layer_features(shipped[0], x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


HAND_A = [[(0.25, 0.8), (0.5, 0.2), (0.75, 0.8)], [(0.35, 0.58), (0.65, 0.58)]]  # as the browser test draws them
HAND_H = [[(0.3, 0.2), (0.3, 0.8)], [(0.7, 0.2), (0.7, 0.8)], [(0.3, 0.5), (0.7, 0.5)]]
HAND_7 = [[(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)]]


def drawn(figure, width: float = 22) -> np.ndarray:
    """Mouse strokes (fractions of the canvas) as the canvas paints and sends them, through the page's path."""
    ink = strokes.brush([np.asarray(s) * strokes.CANVAS for s in figure], width)
    return ood_sets.through_app(ink, "drawn", np.random.default_rng(0))


def test_a_drawn_letter_is_flagged_and_a_drawn_seven_is_not(shipped):
    """The issue's examples, drawn with the default brush (22 px): H and A, both a 4 to the classifier."""
    from rep_models.predict import top_k

    clf, dets = shipped
    h, a, seven = (ood.judge(dets, clf, drawn(s), top_k(clf, drawn(s)), "Draw") for s in (HAND_H, HAND_A, HAND_7))
    assert h.flagged, h  # measured: percentile 99.6, score 1.65 against the line at 1.41
    assert h.headline == "I don't think this is a digit; if it were, it would be a 4."
    assert a.flagged, a  # measured: percentile 99.4, score 1.54 (with one covariance for all classes: 98.3, only unusual)
    assert seven.level == "digit" and seven.headline == "This looks like a digit: a 7.", seven  # measured: percentile 22.5


# Fixed subsets, the first items of each set (2026-12-01, this project's 2-core CPU); the bars are the catalogue's
# (rep_models.evaluate.check_bars), the figures measured on these subsets are beside each. A set is scored by the
# detector of the channel it comes through (ood_sets.CHANNEL).
N_DIGITS, N_OTHER = 1000, 200  # 1,000 digits: the 2 % bar is 20 of them, so one digit either way is not the margin
SUBSETS = ("digits_drawn", "digits_image", "digits_photo", "fashion_image", "fashion_photo", "letters_image", "letters_photo",
           "handletters_drawn")


@pytest.fixture(scope="module")
def users_path(shipped, mnist_test, fashion_mnist_test, fonts):
    clf, dets = shipped
    sources = {"digits": mnist_test[0][:N_DIGITS, 0].numpy(), "fashion": fashion_mnist_test[0][:N_OTHER, 0].numpy()}
    scores = {}
    for name in SUBSETS:
        what, rendering = name.rsplit("_", 1)
        s = ood_sets.build(name, N_DIGITS if what == "digits" else N_OTHER, source_images=sources.get(what))
        assert s.refused == 0
        scores[name] = dets[ood_sets.CHANNEL[rendering]].score(clf, s.images)
    return ood.measure(scores, {c: d.threshold for c, d in dets.items()})


def _bars(m):
    from rep_models import catalogue, evaluate

    return {b["measure"]: b for b in evaluate.check_bars({"classifier": ood.metrics_entry(m)}) if b["model"] == catalogue.NOT_A_DIGIT_BARS[0]}


_P = "users' path: "
MEASURED = {  # measure: its figure on the subsets (the full report's are in pretrained/metrics.json and README)
    _P + "AUROC Fashion-MNIST vs MNIST test digits (pictures, photos)": "0.9994 (>= 0.99)",
    _P + "AUROC font letters vs MNIST test digits (pictures, photos)": "0.9914 (>= 0.95)",
    _P + "AUROC hand-drawn letters vs MNIST test digits (drawn, photos)": "0.9926 (>= 0.95)",
    _P + "share of Fashion-MNIST items flagged (lower of pictures, photos)": "0.985 (photos; pictures 0.995) (>= 0.95)",
    _P + "share of font letters flagged (lower of pictures, photos)": "0.93 (photos; pictures 0.955) (>= 0.80)",
    _P + "share of hand-drawn letters flagged (lower of drawn, photos)": "0.88 (drawn) (>= 0.80)",
    _P + "share of MNIST test digits flagged (highest of drawn, pictures, photos)": "0.013 (pictures; drawn 0.012, photos 0.010) (<= 0.02)",
}
# A bar the detector misses, with the figure measured (strict: it fails the day it passes, so it cannot go stale).
KNOWN_MISSES: dict[str, str] = {}


@pytest.mark.parametrize("measure", [pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[m])) if m in KNOWN_MISSES
                                     else m for m in MEASURED])
def test_bar_on_the_users_path(users_path, measure):
    b = _bars(users_path)[measure]
    assert b["passed"], f"{measure}: {b['value']} (bar {b['bar']}; measured {MEASURED[measure]})"


def test_every_not_a_digit_bar_is_tested(users_path):
    assert set(_bars(users_path)) == set(MEASURED)
