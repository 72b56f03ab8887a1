"""The Lesson (pages/11_lesson.py, ui/lesson.py) and the experiments that answer its exercises (rep_models/lesson.py).

The experiments run here on small models and budgets; the page runs on the shipped models, as a visitor gets it:
every step renders, the URL restores a step and follows the Previous/Next buttons, each exercise's experiment runs
from its button and says what it measured."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from streamlit.testing.v1 import AppTest

from rep_models import lesson
from rep_models.models import build
from ui.lesson import STEPS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "11_lesson.py")


# ------------------------------------------------------------------------------------------- experiments

def test_tied_vs_untied_same_start_half_the_decoder_weights(mnist_train, mnist_test):
    x, xv = mnist_train[0][:1024], mnist_test[0][:128]
    runs = lesson.tied_vs_untied(x, xv, hidden=(32,), latent_dim=8, epochs=3, batch_size=32)
    tied, untied = runs["tied"], runs["untied"]
    assert tied.tied and not untied.tied
    assert untied.parameters - tied.parameters == 784 * 32 + 32 * 8  # the untied decoder's own matrices
    assert len(tied.train_mse) == len(tied.val_mse) == 3
    for r in (tied, untied):  # both learn: better than a blank image (0.100 here; measured 0.066 tied, 0.069 untied)
        assert r.val_mse[-1] < 0.9 * float((xv**2).mean()) and r.val_mse[-1] < r.val_mse[0]
    assert tied.val_mse != untied.val_mse  # tying changes the training
    again = lesson.tied_vs_untied(x, xv, hidden=(32,), latent_dim=8, epochs=3, batch_size=32)
    assert again["untied"].val_mse == untied.val_mse  # seeded: the same run twice


def test_tied_vs_untied_refuses_a_budget_it_cannot_run(mnist_train):
    with pytest.raises(ValueError, match="epochs"):
        lesson.tied_vs_untied(mnist_train[0][:10], mnist_train[0][:10], epochs=1, batch_size=64)


def test_frozen_vs_fine_tuned_leaves_the_shipped_encoder_alone(mnist_train, mnist_test):
    torch.manual_seed(0)
    ae = build("stacked_ae", hidden=(32,), latent_dim=8, tied=True)
    before = {k: v.clone() for k, v in ae.state_dict().items()}
    x, y = mnist_train[0][:2000], mnist_train[1][:2000]
    rows = lesson.frozen_vs_fine_tuned(ae, x, y, mnist_test[0][:500], mnist_test[1][:500], budgets=(10, 50), steps=30)
    assert [r["labels"] for r in rows] == [10, 50]
    for r in rows:
        assert 0.15 < r["frozen"] <= 1 and 0.15 < r["fine_tuned"] <= 1  # above chance (0.1) even from random codes
    assert all(torch.equal(before[k], v) for k, v in ae.state_dict().items())


def test_generated_vs_data_shares():
    torch.manual_seed(0)
    vae, clf = build("vae", latent_dim=4, channels=4, hidden=16).eval(), build("classifier", channels=4, features=16).eval()
    y = np.array([0] * 30 + [1] * 70)
    g = lesson.generated_vs_data(vae, clf, y, n=200, seed=3)
    assert g["data"][0] == pytest.approx(0.3) and g["data"][1] == pytest.approx(0.7) and g["data"][2:].sum() == 0
    assert g["samples"].sum() == pytest.approx(1.0) and g["images"].shape == (32, 28, 28)
    assert g["gap"] == pytest.approx(np.abs(g["samples"] - g["data"]).max())
    assert np.array_equal(lesson.generated_vs_data(vae, clf, y, n=200, seed=3)["samples"], g["samples"])


def test_short_gan_run_records_every_interval(mnist_train):
    clf = build("classifier", channels=4, features=16).eval()
    r = lesson.short_gan_run(mnist_train[0][:500], clf, steps=20, every=10)
    assert r["step"] == [10, 20]
    assert len(r["d_real"]) == len(r["d_fake"]) == len(r["kl"]) == 2
    assert all(0 <= v <= 1 for v in r["d_real"] + r["d_fake"]) and all(0 <= k <= np.log(10) + 1e-6 for k in r["kl"])
    assert r["samples"].shape == (16, 28, 28)
    with pytest.raises(ValueError, match="every"):
        lesson.short_gan_run(mnist_train[0][:500], clf, steps=5, every=10)


class _Recall(nn.Module):
    """A perfect memoriser: gives back the memorised digit nearest to its input."""

    def __init__(self, memory):
        super().__init__()
        self.memory = memory.flatten(1)

    def encode(self, x):
        return torch.cdist(x.flatten(1), self.memory).argmin(1, keepdim=True).float()

    def forward(self, x):
        return self.memory[self.encode(x)[:, 0].long()].view_as(x)


class _Copy(nn.Module):
    def encode(self, x):
        return x.flatten(1)

    def forward(self, x):
        return x


def test_memorised_tells_recall_from_copying(mnist_train, mnist_test):
    memory, new = mnist_train[0][:50], mnist_test[0][:200]
    m = lesson.memorised(_Recall(memory), memory, new)
    assert m["train_mse"] == 0 and m["recalled"] == 1 and m["answered_from_memory"] == 1 and m["test_mse"] > 0.02
    c = lesson.memorised(_Copy(), memory, new)  # a copier also recalls its memory, but answers new digits with themselves
    assert c["recalled"] == 1 and c["answered_from_memory"] == 0 and c["test_mse"] == 0


def test_memory_digits_come_from_the_card(mnist_train):
    card = {"recipe": "memoriser_ae", "train_options": {"limit": 12, "data_source": "sample"}}
    assert torch.equal(lesson.memory_digits(card), mnist_train[0][:12])
    with pytest.raises(ValueError, match="no training limit"):
        lesson.memory_digits({"recipe": "vae", "train_options": {"limit": 0}})


# ------------------------------------------------------------------------------------------------ the page

def test_the_lessons_rows_name_shipped_models_and_steps():
    from rep_models.catalogue import CATALOGUE, LESSON_ROWS

    ids = {s.id for s in STEPS}
    assert set(LESSON_ROWS) <= ids and all(n in CATALOGUE for names in LESSON_ROWS.values() for n in names)


def _open(step: int | None = None, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    if step is not None:
        at.query_params["step"] = str(step)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]  # a shipped model that does not load would warn


def test_every_step_renders_with_the_shipped_models():
    from ui.strings import en

    for i, step in enumerate(STEPS, start=1):
        at = _open(i)
        assert [h.value for h in at.header] == [en.STRINGS[f"lesson.{step.id}.title"]], i
        assert at.selectbox(key="lesson_step").value == i


def test_the_url_restores_a_step_and_follows_the_buttons():
    at = _open(6)
    assert at.header[0].value == "Sparse autoencoders"
    at.button(key="lesson_next").click().run()
    _ok(at)
    assert at.header[0].value == "Variational autoencoders" and at.query_params["step"] == "7"
    at.button(key="lesson_prev").click().run()
    at.button(key="lesson_prev").click().run()
    assert at.header[0].value == "Denoising autoencoders" and at.query_params["step"] == "5"
    first = _open(1)
    assert first.button(key="lesson_prev").disabled and "step" not in first.query_params
    assert _open(len(STEPS)).button(key="lesson_next").disabled


def test_a_bad_step_in_the_url_is_noted_and_the_lesson_starts():
    at = _open(99)
    assert at.selectbox(key="lesson_step").value == 1
    assert any("99" in c.value for c in at.caption)


def _step(step_id: str) -> int:
    return next(i for i, s in enumerate(STEPS, start=1) if s.id == step_id)


def test_the_tied_weights_experiment_runs_and_reports():
    at = _open(_step("ex_tied"))
    at.button(key="lesson_run_tied").click().run()
    _ok(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Tied: 210,224 parameters" in text and "Untied: 419,120 parameters" in text  # 784-256-32, tied vs not
    assert at.session_state["lesson_tied"]["untied"].parameters == 419_120


def test_the_few_labels_experiment_runs_and_reports():
    at = _open(_step("ex_few_labels"))
    at.button(key="lesson_run_few").click().run()
    _ok(at)
    rows = at.session_state["lesson_few"]
    assert [r["labels"] for r in rows] == [10, 100]
    assert "With 100 labels: frozen" in " ".join(m.value for m in at.markdown)


def test_the_gan_experiment_runs_and_reports():
    at = _open(_step("ex_gan"))
    at.button(key="lesson_run_gan").click().run()
    _ok(at)
    r = at.session_state["lesson_gan"]
    assert r["step"][-1] == lesson_gan_steps()
    text = " ".join(m.value for m in at.markdown)
    assert "swung by" in text and "DCGAN: every digit between" in text  # the shipped GANs' class shares, stated


def lesson_gan_steps() -> int:
    from ui import lesson as ui_lesson

    return ui_lesson.GAN_STEPS


def test_the_perfect_reconstruction_exercise_quotes_the_measured_figures():
    at = _open(_step("ex_perfect"))
    text = " ".join(m.value for m in at.markdown)
    assert "The overcomplete autoencoder rebuilds test digits with an error of" in text and "–" not in text
    assert "The one-number model keeps its 30 training digits apart" in text
    assert len(at.image) >= 6  # the rows of digits


def test_the_lesson_in_chinese():
    at = _open(_step("ex_complete"), lang="zh")
    assert at.header[0].value == "欠完备与过完备：各自的主要风险是什么？"
    table = at.dataframe[0].value
    assert list(table.columns)[:2] == ["模型", "编码维数"] and set(table["编码维数"]) == {1, 32, 1568, 784}


def test_every_step_in_chinese_shows_no_english_of_its_own():
    from test_i18n import english_words, page_texts

    found = {}
    for i in range(1, len(STEPS) + 1):
        at = _open(i, lang="zh")
        for s in page_texts(at):
            if english_words(s):
                found[(i, s[:80])] = english_words(s)
    assert not found, found
