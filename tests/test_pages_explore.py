"""AppTest (no browser) for the latent-space pages: VAE explorer, Latent map, GAN studio, Linear AE = PCA,
Few labels and Train live.

They run against a *tiny zoo* (small untrained models and a synthetic map saved in a temporary pretrained
directory), so they test the pages' mechanics without waiting for the shipped models. Each test checks that
the page runs without an exception or error box, that its main widgets exist, and that moving a control
changes what is shown (the decoded image's bytes, the chosen model).
"""
from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from rep_models import checkpoint
from rep_models.models import build

ROOT = Path(__file__).resolve().parent.parent
TINY = {
    "classifier": ("classifier", {"channels": 4, "features": 16}),
    "vae": ("vae", {"latent_dim": 8, "channels": 4, "hidden": 32}),
    "beta_vae": ("vae", {"latent_dim": 5, "channels": 4, "hidden": 32, "beta": 4.0}),
    "vae_2d": ("vae", {"latent_dim": 2, "channels": 4, "hidden": 32}),
    "cvae": ("cvae", {"latent_dim": 6, "channels": 4, "hidden": 32}),
    "gan": ("gan", {"z_dim": 8, "hidden": 32}),
    "dcgan": ("dcgan", {"z_dim": 8, "ngf": 4, "ndf": 4}),
    "cdcgan": ("cdcgan", {"z_dim": 8, "ngf": 4, "ndf": 4}),
    "stylegan": ("stylegan", {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "channels": (8, 8, 4), "d_channels": (4, 8, 8)}),
    "linear_ae": ("linear_ae", {"latent_dim": 6}),
    "conv_ae": ("conv_ae", {"channels": 4}),
    "rbm": ("rbm", {"n_hidden": 16, "n_chains": 8}),
    "dbn": ("dbn", {"hidden": (16, 12), "n_chains": 8}),
}


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory, mnist_test):
    from rep_models import projections

    d = tmp_path_factory.mktemp("tiny_zoo_explore")
    torch.manual_seed(0)
    for name, (model, config) in TINY.items():
        m = build(model, **config)
        if name != "classifier":
            with torch.no_grad():  # untrained nets barely react to their input; tripled weights make changes visible
                for p in m.parameters():
                    p.mul_(3.0)
                for k, p in m.named_parameters():  # the StyleGAN's noise strengths start at 0: give the noise a say
                    if k.endswith("strength"):
                        p.fill_(0.5)
        checkpoint.save(m, d / name)
    # A synthetic PCA map of raw pixels: a random 2-D linear projection of the test set (placement works the same).
    x, y = mnist_test
    flat = x.reshape(len(x), -1).numpy()
    comps = np.linalg.qr(np.random.default_rng(0).normal(size=(784, 2)))[0].T.astype(np.float32)
    mean = flat.mean(0)
    projections.save_projection("pixels", "pca", (flat - mean) @ comps.T, y.numpy(), directory=d, mean=mean, components=comps)
    return d


def _clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(scope="module")
def zoo(tiny_zoo):
    """Point the app at the tiny zoo for the whole module; caches are cleared when entering and leaving it
    (models are cached by name, so ones loaded from another directory must not leak in or out)."""
    from rep_models import projections
    from ui import latent

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checkpoint, "PRETRAINED_DIR", tiny_zoo)
        mp.setattr(projections, "PRETRAINED_DIR", tiny_zoo)
        mp.setattr(latent, "N_PCA", 3000)  # a quicker PCA: these tests check the page, not the components
        projections._placer.cache_clear()
        _clear_caches()
        yield tiny_zoo
        _clear_caches()
        projections._placer.cache_clear()


def run(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120).run()
    ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def urls(at: AppTest) -> list[str]:
    return [i.proto.imgs[0].url for i in at.image]


def texts(at: AppTest, kind: str) -> str:
    return " ".join(str(e.value) for e in getattr(at, kind))


# ------------------------------------------------------------------------------------------ VAE explorer


def components(at: AppTest, name: str) -> list:
    """The in-page components (``st.components.v2``) named ``name``, as protos, in page order."""
    found = []

    def walk(node):
        children = getattr(node, "children", None)
        for c in (children.values() if isinstance(children, dict) else []):
            if type(c).__name__ == "UnknownElement" and c.type == "bidi_component" and c.proto.component_name == name:
                found.append(c.proto)
            walk(c)

    walk(at.main)
    return found


def component_data(proto) -> dict:
    return json.loads(proto.json)


def test_vae_explorer_decodes_in_the_browser_by_default(zoo):
    """The default: the page gets the decoder and classifier as bytes and sliders with the code to start from."""
    at = run("4_vae.py")
    assert at.toggle(key="vae_in_browser").value is True
    loaders = components(at, "latent_lab.net_loader")
    heads = [json.loads(p.bytes[8: 8 + int.from_bytes(p.bytes[4:8], "little")]) for p in loaders]  # LLO1 | length | JSON | ONNX
    assert all(p.bytes[:4] == b"LLO1" for p in loaders)
    names = sorted(h["id"].split(":")[0] for h in heads)
    assert names == ["classifier", "vae"]
    (sliders,) = components(at, "latent_lab.latent_sliders")
    d = component_data(sliders)
    assert d["net"].startswith("vae:") and d["classifier"].startswith("classifier:")
    assert len(d["z0"]) == 8 and len(d["labels"]) == len(d["vectors"]) == 6 and d["labels"][0].startswith("PC 1")
    assert np.allclose(d["z0"], 0)  # the origin
    at.radio(key="vae_src").set_value("test").run()
    ok(at)
    (sliders,) = components(at, "latent_lab.latent_sliders")
    assert not np.allclose(component_data(sliders)["z0"], 0)  # now the test digit's code
    at.selectbox(key="vae_model").set_value("beta_vae").run()
    ok(at)
    (sliders,) = components(at, "latent_lab.latent_sliders")
    assert component_data(sliders)["net"].startswith("beta_vae:") and len(component_data(sliders)["z0"]) == 5


def test_vae_explorer_sliders_redecode(zoo):
    at = run("4_vae.py")
    at.toggle(key="vae_in_browser").set_value(False).run()
    ok(at)
    assert not components(at, "latent_lab.latent_sliders")
    sliders = [at.slider(key=f"vae_vae_principal_{i}") for i in range(6)]
    assert sliders[0].label.startswith("PC 1") and sliders[0].value == 0.0
    before = urls(at)
    sliders[0].set_value(2.5).run()
    ok(at)
    assert urls(at) != before  # the decoded digit changed
    assert "code norm 0.00" not in texts(at, "caption")
    at.button(key="vae_reset_vae_principal").click().run()
    assert at.slider(key="vae_vae_principal_0").value == 0.0


def test_vae_explorer_axes_class_and_model_switch(zoo):
    at = run("4_vae.py")
    at.toggle(key="vae_in_browser").set_value(False).run()
    at.segmented_control(key="vae_kind").set_value("axes").run()
    ok(at)
    assert at.slider(key="vae_vae_axes_0").label.startswith("z[")
    at.segmented_control(key="vae_kind").set_value("class").run()
    before = urls(at)
    at.slider(key="vae_cls_t_vae").set_value(1.0).run()
    ok(at)
    assert urls(at) != before
    at.selectbox(key="vae_model").set_value("beta_vae").run()
    ok(at)
    assert at.slider(key="vae_cls_t_beta_vae") is not None  # the sliders now belong to the β-VAE


def test_vae_explorer_manifold_click_and_test_digit_start(zoo):
    """The 2-D map section: a click (selection event) decodes that code; a test digit becomes the start."""
    at = run("4_vae.py")
    at.segmented_control(key="vae_section").set_value("map").run()
    ok(at)
    assert "Click anywhere on the map" in texts(at, "info")
    at.session_state["vae_manifold_chart"] = {"selection": {"points": [{"customdata": [0.5, -1.25]}]}}
    at.run()
    ok(at)
    assert any(c == "z = (0.50, -1.25)" for i in at.image for c in i.captions if c)
    at.radio(key="vae_src").set_value("test").run()
    ok(at)
    assert any(c == "as the models see it (28×28)" for i in at.image for c in i.captions if c)
    assert "code norm 0.00" not in texts(at, "caption")  # the sliders start from the digit's code, not the origin


def test_vae_explorer_cvae_digit_changes_the_image(zoo):
    at = run("4_vae.py")
    at.segmented_control(key="vae_section").set_value("cvae").run()
    before = urls(at)
    at.segmented_control(key="vae_cvae_digit").set_value(2).run()
    ok(at)
    assert urls(at) != before and "a 2 in this style" in [c for i in at.image for c in i.captions]


# -------------------------------------------------------------------------------------------- GAN studio


def report(at: AppTest, key: str, **state) -> AppTest:
    """What an in-page component does when the reader uses it: set its state values, then the script runs again."""
    at.session_state[key] = {"runtime": None, **state}
    return at.run()


def test_gan_studio_grid_is_made_in_the_page_and_follows_its_controls(zoo):
    """By default the page decodes the grid (its own seed, count and truncation controls): the server sends the
    generator once and the view to start from, and takes the page's reports into the URL and the download."""
    at = run("6_gan.py")
    (grid,) = components(at, "latent_lab.gan_grid")
    d = component_data(grid)
    assert d["net"].startswith("gan:") and d["init"] == {"seed": 0, "n": 64, "truncation": 0.0} and d["counts"] == [16, 36, 64, 100]
    assert d["base"] == "/app/static/ort/" and not urls(at)  # no grid image from the server
    loaders = components(at, "latent_lab.net_loader")
    assert [json.loads(p.bytes[8: 8 + int.from_bytes(p.bytes[4:8], "little")])["id"] for p in loaders] == [d["net"]]
    report(at, "gan_grid", view={"seed": 3, "n": 16, "truncation": 0.5})
    ok(at)
    assert at.query_params == {"seed": "3", "samples": "16", "truncation": "0.5"}
    (grid,) = components(at, "latent_lab.gan_grid")
    assert component_data(grid)["init"] == {"seed": 3, "n": 16, "truncation": 0.5}  # a rebuilt grid starts where it was
    report(at, "gan_grid", view={"seed": 12_345, "n": 17, "truncation": 0.5})  # not a value the page offers: kept as it was
    assert at.query_params == {"seed": "3", "samples": "16", "truncation": "0.5"}
    at.selectbox(key="gan_model").set_value("cdcgan").run()
    ok(at)
    at.segmented_control(key="gan_digit").set_value(4).run()
    ok(at)
    (grid,) = components(at, "latent_lab.gan_grid")
    d = component_data(grid)
    assert d["net"].startswith("cdcgan:") and d["digit"] == 4 and d["cols"] == 0


def test_gan_studio_grid_falls_back_to_the_server_when_the_page_cannot_run_it(zoo):
    """A browser without WebAssembly (or with the runtime blocked) says so; the server then draws the grid, with
    Streamlit's controls, and the page says why."""
    at = run("6_gan.py")
    report(at, "gan_grid", runtime={"ok": False, "reason": "this browser has no WebAssembly"})
    ok(at)
    assert not components(at, "latent_lab.gan_grid") and len(urls(at)) == 1
    assert "could not start the in-page runtime (this browser has no WebAssembly)" in texts(at, "caption")
    grid = urls(at)[0]
    at.number_input(key="gan_seed").set_value(3).run()
    ok(at)
    assert urls(at)[0] != grid
    grid = urls(at)[0]
    at.slider(key="gan_trunc").set_value(0.5).run()
    assert urls(at)[0] != grid
    assert "truncation ±0.5" in texts(at, "caption")
    at.selectbox(key="gan_model").set_value("cdcgan").run()
    ok(at)
    at.segmented_control(key="gan_digit").set_value(4).run()
    ok(at)
    assert "64 samples in" in texts(at, "caption")


def test_gan_studio_walk_is_made_in_the_page(zoo):
    """By default the page makes the walk's frames: the server sends the generator and the walk's settings only."""
    at = run("6_gan.py")
    at.segmented_control(key="gan_section").set_value("walk").run()
    (walk,) = components(at, "latent_lab.walk_player")
    d = component_data(walk)
    assert d["net"].startswith("gan:") and (d["walkers"], d["period"], d["method"], d["playing"], d["fps"]) == (9, 120, "circle", False, 32)
    assert not components(at, "latent_lab.frame_player")
    at.toggle(key="gan_play").set_value(True).run()
    ok(at)
    assert component_data(components(at, "latent_lab.walk_player")[0])["playing"] is True
    at.radio(key="gan_walk_method").set_value("random").run()
    assert component_data(components(at, "latent_lab.walk_player")[0])["method"] == "random"


def test_gan_studio_play_advances_frames_and_shows_the_histograms(zoo):
    """The server's walk, where the page cannot make it: frames sent in chunks to the page's player."""
    at = run("6_gan.py")
    at.segmented_control(key="gan_section").set_value("walk").run()
    report(at, "gan_walk", runtime={"ok": False, "reason": "blocked"})
    (player,) = components(at, "latent_lab.frame_player")
    d = component_data(player)
    assert (d["start"], d["n"], d["playing"]) == (0, 1, False)  # paused: the one current frame
    at.toggle(key="gan_play").set_value(True).run()
    ok(at)
    d = component_data(components(at, "latent_lab.frame_player")[0])
    assert (d["start"], d["n"], d["playing"]) == (0, 30, True)  # two chunks in hand to start
    sheet = base64.b64decode(d["sheet"].split(",", 1)[1])
    from PIL import Image

    assert Image.open(io.BytesIO(sheet)).size == (30 * d["fw"], d["fh"])  # the frames side by side
    at.run()  # what run_every does: the next chunk
    d = component_data(components(at, "latent_lab.frame_player")[0])
    assert (d["start"], d["n"]) == (30, 15) and "ms per frame" in d["note"]
    at.toggle(key="gan_play").set_value(False)
    at.segmented_control(key="gan_section").set_value("collapse").run()
    ok(at)
    assert [m.label for m in at.metric].count("Digits drawn (≥ 2 %)") == 3  # MLP GAN, DCGAN and StyleGAN side by side


def test_gan_studio_style_sections(zoo):
    """The StyleGAN: its samples with truncation in W and the noise inputs, made in the page with the noise fixed or
    off and by the server with re-drawn noise; the Style mixing section, whose crossover, seeds and noise change the
    grid, with the trick table where one ships; interpolation in W."""
    at = run("6_gan.py")
    at.selectbox(key="gan_model").set_value("stylegan").run()
    ok(at)
    (grid,) = components(at, "latent_lab.gan_grid")  # fixed noise: the page decodes, psi is the grid's own slider
    d = component_data(grid)
    assert d["net"].startswith("stylegan:") and d["style"] and d["noise"] == 1.0 and d["init"]["truncation"] == 1.0
    assert d["text"]["truncation"] == "Truncation ψ (in W)" and not urls(at)
    assert not [s for s in at.slider if s.key in ("gan_trunc", "gan_psi")]  # Z truncation is for the other GANs
    report(at, "gan_grid_style", view={"seed": 2, "n": 16, "truncation": 0.5})
    ok(at)
    assert at.query_params["psi"] == "0.5" and "truncation" not in at.query_params
    report(at, "gan_grid_style", view={"seed": 2, "n": 16, "truncation": 2.5})  # psi above 1: not offered, kept as it was
    assert at.query_params["psi"] == "0.5"
    at.radio(key="gan_noise").set_value("none").run()
    ok(at)
    (grid,) = components(at, "latent_lab.gan_grid")
    assert component_data(grid)["noise"] == 0.0 and component_data(grid)["init"]["truncation"] == 0.5
    at.radio(key="gan_noise").set_value("random").run()  # re-drawn noise comes from the server's generator
    ok(at)
    assert not components(at, "latent_lab.gan_grid")
    first = urls(at)
    assert at.slider(key="gan_psi").value == 0.5  # the page's psi, carried over
    at.button(key="gan_redraw").click().run()
    ok(at)
    assert urls(at) != first
    at.slider(key="gan_psi").set_value(0.0).run()
    ok(at)
    assert "ψ = 0" in texts(at, "caption")
    at.slider(key="gan_psi").set_value(1.0).run()  # the link's psi is every section's: at 0 every cell is the average digit
    at.radio(key="gan_noise").set_value("const").run()

    at.segmented_control(key="gan_section").set_value("mixing").run()
    ok(at)
    assert at.select_slider(key="gan_mix_k").value == 2  # the coarse styles
    grid = urls(at)
    at.select_slider(key="gan_mix_k").set_value(5).run()
    ok(at)
    assert urls(at) != grid and "first 5 styles" in texts(at, "caption")
    at.radio(key="gan_mix_noise").set_value("random").run()
    ok(at)
    before = urls(at)
    at.button(key="gan_mix_redraw").click().run()
    ok(at)
    assert urls(at) != before  # new noise maps
    at.number_input(key="gan_mix_rows").set_value(99).run()
    ok(at)

    at.segmented_control(key="gan_section").set_value("interpolate").run()
    at.selectbox(key="gan_interp_model").set_value("stylegan").run()
    ok(at)
    assert "straight line in W" in texts(at, "caption")


def test_gan_studio_shows_the_trick_table(zoo):
    table = {"meta": {"steps": 1500}, "rows": [
        {"variant": "full", "frechet_distance": 40.5, "min_class_fraction": 0.07, "max_class_fraction": 0.13, "mean_top_prob": 0.95,
         "train_seconds": 300.0},
        {"variant": "no_mbstd", "frechet_distance": 61.25, "min_class_fraction": 0.01, "max_class_fraction": 0.3, "mean_top_prob": 0.9,
         "train_seconds": 290.0}]}
    path = zoo / "stylegan_ablation.json"
    path.write_text(json.dumps(table))
    try:
        at = run("6_gan.py")
        at.segmented_control(key="gan_section").set_value("mixing").run()
        ok(at)
        shown = at.dataframe[-1].value
        assert list(shown["Variant"]) == ["all tricks", "without minibatch standard deviation"]
        assert list(shown["Fréchet distance"]) == [40.5, 61.25] and "1,500 steps" in texts(at, "markdown")
        path.write_text("{not json")
        at = run("6_gan.py")
        at.segmented_control(key="gan_section").set_value("mixing").run()
        ok(at)  # an unreadable table is left out, nothing breaks
        assert "What each trick does" not in texts(at, "markdown")
    finally:
        path.unlink()


# -------------------------------------------------------------------------------------- Linear AE = PCA


def test_linear_pca_page_shows_weights_angles_and_reconstructions(zoo):
    at = run("7_linear_pca.py")
    assert {m.label for m in at.metric} >= {"Median angle", "Largest angle"}
    widths = [i.proto.imgs[0].url for i in at.image[:3]]
    at.slider(key="linpca_m").set_value(4).run()
    ok(at)
    assert [i.proto.imgs[0].url for i in at.image[:3]] != widths
    recon = urls(at)[-3:]
    at.number_input(key="linpca_digit").set_value(5).run()
    assert urls(at)[-3:] != recon


# -------------------------------------------------------------------------------------------- Few labels


def _plain(v):
    """A plotly spec with its typed arrays (``{"dtype", "bdata"}``, base64) as lists."""
    if isinstance(v, dict) and set(v) >= {"dtype", "bdata"}:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return [_plain(x) for x in v] if isinstance(v, list) else v


def plotly_figures(at: AppTest) -> list[dict]:
    """The page's plotly charts as figure dicts (``{"data": traces, "layout": ...}``), in page order."""
    found = []

    def walk(node):
        children = getattr(node, "children", None)
        for c in (children.values() if isinstance(children, dict) else []):
            if type(c).__name__ == "UnknownElement" and c.type == "plotly_chart":
                found.append(_plain(json.loads(c.proto.spec)))
            walk(c)

    walk(at.main)
    return found


def _curve(points):  # a few_label_curve as rep_models.evaluate writes it
    return [{"labels": n, "accuracy": a, "std": s, "draws": 5} for n, a, s in points]


def test_few_labels_draws_the_evaluations_curves_and_the_sda_at_its_budgets(zoo):
    budgets = [10, 20, 50, 100, 300, 1000, 3000, 10_000, 55_000]
    report = {rep: {"few_label_100_accuracy": 0.7, "few_label_100_std": 0.02,
                    "few_label_curve": _curve([(n, 0.3 + 0.06 * i, 0.01) for i, n in enumerate(budgets)])} for rep in ("pixels", "conv_ae")}
    report |= {"sda_100": {"test_error": 0.054, "few_label_curve": _curve([(100, 0.946, 0.0)])},
               "sda": {"test_error": 0.0096, "few_label_curve": _curve([(55_000, 0.9904, 0.0)])},
               "meta": {"few_label_curves": {"n_train": 55_000, "n_test": 10_000}}}
    (zoo / "metrics.json").write_text(json.dumps(report))
    try:
        at = run("8_few_labels.py")
        [fig] = plotly_figures(at)
        lines = {t["name"]: t for t in fig["data"] if "lines" in t["mode"]}
        assert set(lines) == {"raw pixels", "Convolutional autoencoder"}
        for t in lines.values():  # every budget, with its spread as an error bar
            assert t["x"] == budgets and len(t["y"]) == len(budgets) and t["error_y"]["array"] == pytest.approx([1.0] * len(budgets))
        stars = sorted((t["x"], t["y"]) for t in fig["data"] if t.get("marker", {}).get("symbol") == "star")
        assert stars == [([100], [pytest.approx(94.6)]), ([55_000], [pytest.approx(99.04)])]
        assert "55,000 training digits" in texts(at, "caption")
    finally:
        (zoo / "metrics.json").unlink()


def test_few_labels_report_and_live_rerun(zoo):
    (zoo / "metrics.json").write_text(json.dumps({"pixels": {"few_label_curve": _curve([(10, 0.4, 0.05), (100, 0.7, 0.02)])}}))
    try:
        at = run("8_few_labels.py")
        assert "precomputed results appear here" not in texts(at, "info")
        assert "Deep belief network" in at.multiselect(key="few_reps").options  # kept off the Latent map, not off Few labels
        # raw pixels, a (tiny) encoder and the DBN's top-layer features
        at.multiselect(key="few_reps").set_value(["pixels", "conv_ae", "dbn"])
        at.multiselect(key="few_counts").set_value([10, 20])
        at.number_input(key="few_draws").set_value(1)
        at.button(key="few_run").click().run()
        ok(at)
        live = at.session_state["few_live"]
        assert set(live) == {"pixels", "conv_ae", "dbn"} and [n for n, _, _ in live["pixels"]] == [10, 20]
        assert len(at.dataframe) == 1
        linear = live["pixels"]
        at.radio(key="few_method").set_value("spreading")
        at.button(key="few_run").click().run()
        ok(at)
        assert at.session_state["few_live_method"] == "spreading"
        assert at.session_state["few_live"]["pixels"] != linear  # another classifier, another curve
    finally:
        (zoo / "metrics.json").unlink()


# -------------------------------------------------------------------------------------------- Train live


def _wait(job, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while job.running and time.monotonic() < deadline:
        job.heartbeat()  # the page would do this while it is open
        time.sleep(0.2)


def test_train_live_trains_and_blocks_a_second_session(zoo):
    from ui import latent

    at = run("9_train_live.py")
    at.selectbox(key="train_model").set_value("linear_ae")
    at.select_slider(key="train_samples").set_value(1000)
    at.slider(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    ok(at)
    job = latent.train_slot().current()
    assert job is not None and job.name == "linear_ae"
    other = run("9_train_live.py")  # another visitor while it trains
    if job.running:
        assert "Someone else is training" in texts(other, "info")
        assert other.button(key="train_start").disabled
    _wait(job)
    at.run()
    ok(at)
    assert job.state().status == "done"
    assert any("Finished" in p.proto.text for p in at.get("progress"))
    assert len(at.image) == 1  # the reconstructions after the last epoch


# -------------------------------------------------------------------------------------------- Latent map


def test_latent_map_selection_shows_digits_and_places_a_test_digit(zoo):
    at = run("5_latent_map.py")
    assert "10,000" in [m.value for m in at.metric]
    assert "Drag a lasso" in texts(at, "info")
    (chart,) = components(at, "latent_lab.scatter_map")
    (points,) = components(at, "latent_lab.map_points")
    d, p = component_data(chart), component_data(points)
    assert len(p["x"]) == len(p["ids"]) == 10_000 and d["points"] == p["id"] and d["colour"] and d["mark"] is None
    assert d["thumbs"] is None and d["visible"] is None  # a first load: every label, no thumbnails
    at.session_state["map_chart_pixels_pca"] = {"selection": {"ids": [3, 7, 11]}}  # what a lasso sends
    at.run()
    ok(at)
    assert "3 digits selected" in texts(at, "markdown")
    at.radio(key="map_src").set_value("test").run()
    ok(at)
    assert component_data(components(at, "latent_lab.scatter_map")[0])["mark"] is not None  # the digit placed as a star


def test_latent_map_comparison_table_is_drawn_only_when_opened(zoo):
    at = run("5_latent_map.py")
    assert len(at.dataframe) == 0  # closed: nothing for the browser to lay out on a first load
    at.session_state["map_compare"] = True  # what opening the expander sends
    at.run()
    ok(at)
    assert len(at.dataframe) == 1


def test_pages_degrade_without_models(tmp_path, monkeypatch):
    from rep_models import projections

    monkeypatch.setattr(checkpoint, "PRETRAINED_DIR", tmp_path)
    monkeypatch.setattr(projections, "PRETRAINED_DIR", tmp_path)
    _clear_caches()
    for page in ("4_vae.py", "5_latent_map.py", "6_gan.py", "7_linear_pca.py", "8_few_labels.py"):
        at = run(page)
        info = texts(at, "info")
        assert any(t in info for t in ("not available yet", "not installed yet", "precomputed results appear here")), page
    _clear_caches()


def test_boltzmann_page_dreams_in_chunks_and_shows_the_filters(zoo):
    """The RBM's Gibbs chains from noise: paused, one frame; playing, each run queues the next chunk of frames (the
    chains carried on in the session); another chain count starts them again; from a drawing, the canvas first; the
    filters as one image."""
    at = run("10_boltzmann.py")
    (player,) = components(at, "latent_lab.frame_player")
    d = component_data(player)
    assert (d["start"], d["n"], d["playing"]) == (0, 1, False)
    at.toggle(key="rbm_play").set_value(True).run()
    ok(at)
    d = component_data(components(at, "latent_lab.frame_player")[0])
    assert (d["start"], d["n"], d["playing"]) == (1, 40, True) and "Gibbs steps per frame" in d["note"]
    sheet = base64.b64decode(d["sheet"].split(",", 1)[1])
    from PIL import Image

    assert Image.open(io.BytesIO(sheet)).size == (40 * d["fw"], d["fh"]) and d["fw"] == 2 * 30 - 2  # 4 chains: 2 x 2
    at.run()  # what run_every does: the next chunk
    d2 = component_data(components(at, "latent_lab.frame_player")[0])
    assert (d2["start"], d2["n"]) == (41, 20) and d2["walk"] == d["walk"]
    assert "Gibbs step 61" in texts(at, "caption")
    at.select_slider(key="rbm_chains").set_value(16).run()  # new chains: the dream starts again
    ok(at)
    d3 = component_data(components(at, "latent_lab.frame_player")[0])
    assert d3["start"] == 0 and d3["walk"] != d["walk"] and d3["fw"] == 4 * 30 - 2
    at.toggle(key="rbm_play").set_value(False)
    at.radio(key="rbm_start").set_value("digit").run()
    ok(at)
    assert not components(at, "latent_lab.frame_player")  # the empty canvas first
    at.segmented_control(key="rbm_section").set_value("filters").run()
    ok(at)
    assert len(urls(at)) == 1 and "strongest of the 16 hidden units" in texts(at, "caption")
