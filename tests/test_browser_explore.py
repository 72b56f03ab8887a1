"""End-to-end in headless Chromium for the latent-space pages: each renders without an error box or traceback;
a VAE slider moved with the keyboard re-decodes the image; Play in the GAN studio advances the frames.

Screenshots go to artifacts/browser_<page>.png and measured latencies to artifacts/explore_latency.json
(not committed). Tests needing a shipped model skip only while its file is absent.
"""
from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
import torch
from browser_support import ARTIFACTS, assert_no_error, lasso_on_map, screenshot, wait_idle

from rep_models import checkpoint

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]  # the st_server, browser and open_page fixtures

PAGES = {"vae": "VAE latent explorer", "latent_map": "Latent map", "gan": "GAN studio", "linear_pca": "Linear AE = PCA",
         "few_labels": "Few labels", "train_live": "Train live", "boltzmann": "Boltzmann machines"}


def needs(*names: str) -> None:
    missing = [n for n in names if not (checkpoint.PRETRAINED_DIR / f"{n}.json").is_file()]
    if missing:
        pytest.skip(f"pretrained {missing} not installed yet")


def record(name: str, values: dict) -> None:
    path = ARTIFACTS / "explore_latency.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = values
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.parametrize("url_path", list(PAGES))
def test_page_renders_without_errors(open_page, url_path):
    page = open_page(url_path, wait_for_text=PAGES[url_path])
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, url_path)


VAE_CANVAS = "canvas[data-role='decoded-digit']"
GRID_CANVAS = "canvas[data-role='generated-digits']"


def page_run(page, name: str, x: np.ndarray, y=None) -> list[float]:
    """Run shipped network ``name`` in the page's runtime (onnxruntime-web) on ``x`` (B, ...): its flat output."""
    return page.evaluate("async ([prefix, x, b, y]) => { const LL = globalThis.__latentLab;"
                         " const id = [...LL.nets.keys()].find(k => k.startsWith(prefix));"
                         " return Array.from(await LL.runNet('/app/static/ort/', id, Float32Array.from(x), b, y)); }",
                         [name + ":", x.ravel().tolist(), len(x), None if y is None else [int(v) for v in y]])


def _shadow(selector: str, attr: str) -> str:
    return (f"() => [...document.querySelectorAll('*')].map(e => e.shadowRoot?.querySelector({selector!r}))"
            f".find(Boolean)?.dataset.{attr}")
WALK_CANVAS = "canvas[data-role='latent-walk']"


def _renders(page) -> int:
    return int(page.locator(VAE_CANVAS).get_attribute("data-renders") or 0)


def test_vae_slider_with_the_keyboard_redecodes_in_the_page(open_page):
    """The default Sliders section decodes in the page: a key press re-draws the digit without a script run,
    and the page's interpreter gives what rep_models.webexport's reference gives for the shipped weights."""
    needs("vae", "classifier")
    page = open_page("vae", wait_for_text="PC 1")
    assert_no_error(page)
    page.wait_for_function(f"() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && "
                           f"Number(e.shadowRoot.querySelector({VAE_CANVAS!r})?.dataset.renders) > 0)", timeout=60_000)
    first = page.locator(VAE_CANVAS).screenshot()
    thumb = page.locator("input[type=range]").first
    thumb.focus()
    latencies = []
    for _ in range(8):
        n, t0 = _renders(page), time.perf_counter()
        thumb.press("ArrowRight")
        page.wait_for_function(f"(n) => [...document.querySelectorAll('*')].some(e => e.shadowRoot && "
                               f"Number(e.shadowRoot.querySelector({VAE_CANVAS!r})?.dataset.renders) > n)", arg=n, timeout=20_000)
        latencies.append(1000 * (time.perf_counter() - t0))
    assert page.locator(VAE_CANVAS).screenshot() != first  # the digit on screen changed
    assert page.get_by_text(re.compile(r"code norm (?!0\.00)")).count() >= 1  # the code moved off the origin
    assert page.get_by_text(re.compile(r"classifier: \d \(\d+ %\)")).count() >= 1

    for name in ("vae", "classifier"):  # the page's runtime against the PyTorch model, on the shipped weights
        model = checkpoint.load_pretrained(name).eval()
        rng = np.random.default_rng(0)
        x = rng.random((4, 28, 28), dtype=np.float32) if name == "classifier" else rng.normal(size=(4, model.config.latent_dim)).astype(np.float32)
        got = np.array(page_run(page, name, x))
        with torch.no_grad():
            want = torch.softmax(model(torch.from_numpy(x)[:, None]), 1) if name == "classifier" else model.decode(torch.from_numpy(x))[:, 0]
        np.testing.assert_allclose(got, want.numpy().ravel(), atol=1e-3, err_msg=name)  # measured: below 2e-6
    assert_no_error(page)
    record("vae_slider_keyboard_to_new_image_ms", {"median": float(np.median(latencies)), "p95": float(np.percentile(latencies, 95)),
                                                    "n": len(latencies), "all": [round(v, 1) for v in latencies]})
    screenshot(page, "vae_after_slider")


def _play(page):
    """Press Play and wait for the frame player to show a few frames; its canvas."""
    wait_idle(page)
    canvas = page.locator(WALK_CANVAS)
    canvas.wait_for()
    page.get_by_text("Play", exact=True).click()
    page.wait_for_function(f"() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && "
                           f"Number(e.shadowRoot.querySelector({WALK_CANVAS!r})?.dataset.shown) > 3)", timeout=30_000)
    return canvas


def _watch(canvas, page, seconds: float, every_ms: int) -> tuple[int, int, float, set]:
    """Watch a frame player's canvas for ``seconds``: frames shown before and after, the rate, the distinct pictures."""
    shots, t0 = set(), time.perf_counter()
    n0 = int(canvas.get_attribute("data-shown"))
    while time.perf_counter() - t0 < seconds:
        shots.add(canvas.screenshot())
        page.wait_for_timeout(every_ms)
    n1 = int(canvas.get_attribute("data-shown"))
    return n0, n1, (n1 - n0) / (time.perf_counter() - t0), shots


def test_rbm_dreams_at_a_steady_rate_and_shows_its_filters(open_page):
    """The Boltzmann machines page: Play runs the RBM's Gibbs chains, shown by the page's player at a steady rate
    (frames from the server, a chunk at a time); the chains start again from a drawing; the filters section shows."""
    needs("rbm")
    page = open_page("boltzmann", wait_for_text="Boltzmann machines")
    canvas = _play(page)
    s0 = int(canvas.get_attribute("data-stalls") or 0)
    n0, n1, fps, shots = _watch(canvas, page, 4.0, 200)
    s1 = int(canvas.get_attribute("data-stalls") or 0)
    assert 7 <= fps <= 12, f"{fps:.1f} frames/s shown, the page's player plays 10"
    assert s1 == s0 and len(shots) >= 5  # no frame missed its turn: the server keeps a chunk ahead
    assert canvas.get_attribute("aria-label") == "Gibbs chains of the RBM, dreaming"
    screenshot(page, "rbm_dreaming")
    page.get_by_text("Play", exact=True).click()
    page.locator('[data-testid="stButtonGroup"] button', has_text="Filters").first.click()
    page.locator('[data-testid="stMain"] [data-testid="stImage"] img').first.wait_for(timeout=30_000)
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("The 100 strongest of the 500 hidden units").count() == 1
    screenshot(page, "rbm_filters")
    record("rbm_dream_frames_per_s", {"fps": round(fps, 1), "frames": n1 - n0})


def test_gan_play_advances_frames(open_page):
    needs("dcgan")
    page = open_page("gan", wait_for_text="GAN studio")
    page.locator('[data-testid="stButtonGroup"] button', has_text="Latent walk").first.click()
    canvas = _play(page)
    f0 = int(canvas.get_attribute("data-frame"))
    n0, n1, fps, shots = _watch(canvas, page, 3.0, 150)
    f1 = int(canvas.get_attribute("data-frame"))
    assert f1 - f0 >= 10, f"the walk advanced only {f0} -> {f1} in 3 s"
    assert len(shots) >= 5  # the picture really changes, not only the counter
    assert page.get_by_text(re.compile(r"frame \d+ · \d+\.\d frames/s shown")).count() == 1
    screenshot(page, "gan_playing")
    page.get_by_text("Play", exact=True).click()  # stop the timer before the page closes
    assert_no_error(page)
    record("gan_walk_frames_per_s", {"fps": round(fps, 1), "frames": n1 - n0, "seconds": 3.0})


def test_latent_map_lasso_shows_the_digits(open_page):
    """The map is drawn in the page (WebGL); a lasso drawn with the mouse selects points and the page shows them."""
    needs("conv_ae")
    page = open_page("latent_map", wait_for_text="Latent map")
    lasso_on_map(page)
    page.get_by_text(re.compile(r"[\d,]+ digits selected")).wait_for(timeout=30_000)
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "latent_map_lasso")


@pytest.mark.parametrize("name", ["gan", "dcgan"])
def test_gan_grid_made_in_the_page_is_the_servers(open_page, name):
    """The GAN studio's grid is decoded in the page (onnxruntime-web): the same latents as the server's for the seed
    (portable_normal), the same digits as the PyTorch generator within 1e-3, and a new seed typed in redraws it."""
    needs(name)
    from rep_models.images import tile
    from rep_models.models.base import portable_normal
    from rep_models.sampling import gan_samples  # the server's grid for a seed: the same latents (portable_normal)

    page = open_page(f"gan?model={name}&seed=5&samples=16", wait_for_text="GAN studio")
    page.wait_for_function(f"() => Number(({_shadow(GRID_CANVAS, 'renders')})()) > 0", timeout=60_000)
    assert_no_error(page)
    model = checkpoint.load_pretrained(name).eval()
    pixels = page.evaluate(f"() => {{ const c = [...document.querySelectorAll('*')].map(e => e.shadowRoot?.querySelector({GRID_CANVAS!r}))"
                           ".find(Boolean); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
                           " return [c.width, c.height, Array.from(d.data.filter((_, i) => i % 4 === 0))]; }")
    w, h, grey = pixels
    want = tile(gan_samples(model, 16, 5))
    assert (h, w) == want.shape
    np.testing.assert_allclose(np.array(grey, np.float64).reshape(h, w) / 255, want, atol=0.5 / 255 + 1e-3)
    zb = portable_normal(4 * model.config.z_dim, 9).astype(np.float32).reshape(4, -1)
    with torch.no_grad():
        np.testing.assert_allclose(page_run(page, name, zb), model.decode(torch.from_numpy(zb))[:, 0].numpy().ravel(), atol=1e-3)
    # A batch of 64 of the DCGAN (40-80 ms here) is split: half in the page, half in its helper worker on the other
    # core, once the helper has the network (given after a first slow big batch); the MLP GAN's (6-10 ms) is not.
    # Both halves are the PyTorch generator's digits.
    zb = portable_normal(64 * model.config.z_dim, 11).astype(np.float32).reshape(64, -1)
    page_run(page, name, zb)
    page_run(page, name, zb)  # the fastest of the whole runs decides (a first run is slow anyway)
    splits = page.evaluate("() => globalThis.__latentLab.splits ?? 0")
    if name == "dcgan":
        helper = "() => { const H = globalThis.__latentLab.helper; return H ? [...H.nets.values()].some(v => v === true) : null; }"
        page.wait_for_function(helper, timeout=60_000)
    with torch.no_grad():
        np.testing.assert_allclose(page_run(page, name, zb), model.decode(torch.from_numpy(zb))[:, 0].numpy().ravel(), atol=1e-3)
    assert page.evaluate("() => globalThis.__latentLab.splits ?? 0") == splits + (name == "dcgan")
    seed = page.get_by_label("Seed", exact=True)
    n = int(page.evaluate(_shadow(GRID_CANVAS, "renders")))
    seed.fill("77")
    seed.press("Enter")
    page.wait_for_function(f"(n) => Number(({_shadow(GRID_CANVAS, 'renders')})()) > n && ({_shadow(GRID_CANVAS, 'seed')})() === '77'", arg=n)
    page.wait_for_function("() => location.search.includes('seed=77')")  # the server heard it: the URL follows
    assert_no_error(page)
    screenshot(page, f"gan_grid_in_page_{name}")


def test_style_gan_grid_made_in_the_page_is_the_servers(open_page):
    """The StyleGAN's samples run in the page too, with psi (truncation in W) and the fixed noise maps on or off as
    inputs: the page's digits are style_samples' for the seed within 1e-3, a new psi redraws them in the page, and
    re-drawn noise hands the grid to the server."""
    needs("stylegan")
    from rep_models.images import tile
    from rep_models.style_mixing import style_samples

    page = open_page("gan?model=stylegan&seed=5&samples=16&psi=0.7", wait_for_text="GAN studio")
    page.wait_for_function(f"() => Number(({_shadow(GRID_CANVAS, 'renders')})()) > 0", timeout=60_000)
    assert_no_error(page)
    model = checkpoint.load_pretrained("stylegan").eval()
    grab = (f"() => {{ const c = [...document.querySelectorAll('*')].map(e => e.shadowRoot?.querySelector({GRID_CANVAS!r}))"
            ".find(Boolean); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
            " return [c.width, c.height, Array.from(d.data.filter((_, i) => i % 4 === 0))]; }")
    w, h, grey = page.evaluate(grab)
    want = tile(style_samples(model, 16, 5, 0.7, "const"))
    assert (h, w) == want.shape
    np.testing.assert_allclose(np.array(grey, np.float64).reshape(h, w) / 255, want, atol=0.5 / 255 + 1e-3)
    n = int(page.evaluate(_shadow(GRID_CANVAS, "renders")))
    psi = page.get_by_label("Truncation ψ (in W)")
    psi.focus()
    psi.press("End")  # psi 1: no truncation, decoded in the page
    page.wait_for_function(f"(n) => Number(({_shadow(GRID_CANVAS, 'renders')})()) > n", arg=n)
    page.wait_for_function("() => !location.search.includes('psi=')")  # 1 is the default: it leaves the URL
    w, h, grey = page.evaluate(grab)
    np.testing.assert_allclose(np.array(grey, np.float64).reshape(h, w) / 255, tile(style_samples(model, 16, 5, None, "const")),
                               atol=0.5 / 255 + 1e-3)
    screenshot(page, "gan_grid_in_page_stylegan")
    page.get_by_text("re-drawn", exact=True).click()  # the server's generator draws re-drawn noise
    page.get_by_role("button", name="Draw new noise").wait_for(timeout=60_000)
    page.locator('[data-testid="stMain"] [data-testid="stImage"] img').first.wait_for(timeout=60_000)  # the server's grid
    wait_idle(page)
    assert_no_error(page)
    assert not page.evaluate(_shadow(GRID_CANVAS, "renders"))  # the in-page grid is gone
    screenshot(page, "gan_grid_stylegan_redrawn_noise")


def _main_images(page) -> list[str]:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")


def test_style_mixing_section(open_page):
    """The StyleGAN's Style mixing section: the grid of mixes, a new crossover redraws it, the measured table shows."""
    needs("stylegan")
    page = open_page("gan?section=mixing&model=stylegan", wait_for_text="Style mixing")
    wait_idle(page)
    assert_no_error(page)
    before = _main_images(page)
    assert len(before) == 1
    page.get_by_role("slider", name=re.compile("Crossover")).first.press("ArrowRight")  # 2 -> 3 styles from the row's sample
    page.wait_for_function("(src) => { const i = document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img');"
                           " return i && i.src !== src; }", arg=before[0])
    wait_idle(page)
    assert page.get_by_text("the first 3 styles of its row's sample").count() == 1
    assert page.get_by_text(re.compile(r"Measured on 2,000 random pairs")).count() == 1  # above the evaluation's table
    assert_no_error(page)
    screenshot(page, "gan_style_mixing")


def test_without_the_runtime_the_server_draws_and_the_page_says_so(open_page, browser):
    """The runtime's WebAssembly blocked (a browser that cannot run it): the GAN grid comes from the server, with a note."""
    needs("gan")
    page = open_page("gan?seed=3", wait_for_text="GAN studio", route=("**/ort-wasm-simd-threaded.wasm", lambda r: r.abort()))
    page.get_by_text("could not start the in-page runtime").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stImage"]').first.wait_for()
    assert page.get_by_label("Seed", exact=True).input_value() == "3"
    assert_no_error(page)
    screenshot(page, "gan_fallback")
