"""Every view is a link (ui/links.py): a page's main controls in the URL under readable names, restored from it,
an invalid or out-of-range value ignored with a note, the URL following the controls, and "Share this view".

AppTest's ``query_params`` stand for the URL: set before the first ``run()`` they are the link that was opened,
read after a run they are what the address bar shows. The pages run against the tiny zoo of test_pages_explore.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_explore import ROOT, component_data, components, ok, report, texts, tiny_zoo, zoo  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("zoo")

# page -> (the link's parameters, what each control shows then: (kind, key) -> value)
LINKS = {
    "6_gan.py": ({"model": "dcgan", "seed": "42", "truncation": "0.7", "samples": "16"},
                 {("selectbox", "gan_model"): "dcgan", ("gan_grid", "seed"): 42, ("gan_grid", "truncation"): 0.7,
                  ("gan_grid", "n"): 16}),
    "4_vae.py": ({"model": "beta_vae", "start": "test", "index": "123", "directions": "axes"},
                 {("selectbox", "vae_model"): "beta_vae", ("radio", "vae_src"): "test",
                  ("number_input", "vae_in_test_index"): 123, ("segmented_control", "vae_kind"): "axes"}),
    "5_latent_map.py": ({"rep": "pixels", "method": "pca", "colour": "0", "place": "test", "index": "9"},
                        {("selectbox", "map_rep"): "pixels", ("toggle", "map_colour"): False, ("radio", "map_src"): "test",
                         ("number_input", "map_in_test_index"): 9}),
    "3_denoise.py": ({"index": "5", "noise": "mask", "level": "0.6"},
                     {("segmented_control", "denoise_src"): "Test digit", ("number_input", "denoise_test_index"): 5,
                      ("segmented_control", "denoise_kind"): "mask", ("slider", "denoise_level_mask"): 0.6}),
    "2_draw.py": ({"input": "upload"}, {("segmented_control", "draw_src"): "Upload"}),
    "7_linear_pca.py": ({"components": "5", "index": "17"}, {("slider", "linpca_m"): 5, ("number_input", "linpca_digit"): 17}),
    "8_few_labels.py": ({"reps": "pixels", "counts": "10,20", "draws": "2", "classifier": "spreading"},
                        {("multiselect", "few_reps"): ["pixels"], ("multiselect", "few_counts"): [10, 20],
                         ("number_input", "few_draws"): 2, ("radio", "few_method"): "spreading"}),
    "9_train_live.py": ({"digits": "1000", "epochs": "2"}, {("select_slider", "train_samples"): 1000, ("slider", "train_epochs"): 2}),
}


def open_link(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


class _Init:
    def __init__(self, value):
        self.value = value


def widget(at: AppTest, kind: str, key: str):
    """A Streamlit widget by kind and key, or ``("gan_grid", field)``: the in-page grid's control it starts from."""
    if kind == "gan_grid":
        (grid,) = components(at, "latent_lab.gan_grid")
        return _Init(component_data(grid)["init"][key])
    return getattr(at, kind)(key=key)


@pytest.mark.parametrize("page", list(LINKS))
def test_a_link_restores_the_view_and_stays_in_the_url(page):
    params, expected = LINKS[page]
    at = open_link(page, params)
    ok(at)
    for (kind, key), value in expected.items():
        got = widget(at, kind, key).value
        assert got == pytest.approx(value) if isinstance(value, float) else got == value, (key, got, value)
    defaults = {"5_latent_map.py": ("rep", "method")}.get(page, ())  # the tiny zoo's only map is the default one
    assert at.query_params == {k: v for k, v in params.items() if k not in defaults}  # the address bar still holds the view
    assert ":material/link_off:" not in texts(at, "caption")


def test_gan_link_shows_its_seed_and_moving_a_control_updates_the_url():
    at = open_link("6_gan.py", {"seed": "1234"})
    ok(at)
    assert widget(at, "gan_grid", "seed").value == 1234
    report(at, "gan_grid", view={"seed": 1234, "n": 64, "truncation": 0.5})  # the page's truncation moved
    assert at.query_params == {"seed": "1234", "truncation": "0.5"}
    report(at, "gan_grid", view={"seed": 0, "n": 64, "truncation": 0.5})  # back to the default: the parameter leaves the URL
    assert at.query_params == {"truncation": "0.5"}


def test_invalid_and_out_of_range_values_are_ignored_with_a_note():
    at = open_link("6_gan.py", {"model": "stylegan9", "seed": "abc", "truncation": "9", "samples": "17", "section": "nope"})
    ok(at)  # no exception, no error box
    notes = texts(at, "caption")
    for bad in ("model=stylegan9", "seed=abc", "truncation=9", "samples=17", "section=nope"):
        assert f"The link's {bad} was ignored" in notes, bad
    assert "not a whole number from 0 to 9999" in notes and "not a number from 0 to 3" in notes
    assert widget(at, "gan_grid", "seed").value == 0 and at.selectbox(key="gan_model").value == "gan"
    assert at.query_params == {}  # dropped from the URL


def test_leaving_a_section_drops_its_parameters():
    at = open_link("6_gan.py", {"section": "interpolate", "steps": "7", "a": "5"})
    ok(at)
    assert at.slider(key="gan_interp_steps").value == 7 and at.number_input(key="gan_interp_a").value == 5
    at.segmented_control(key="gan_section").set_value("samples").run()
    ok(at)
    assert at.query_params == {}


def test_vae_link_from_the_issue():
    at = open_link("4_vae.py", {"model": "vae", "start": "test", "index": "123"})
    ok(at)
    assert at.radio(key="vae_src").value == "test" and at.number_input(key="vae_in_test_index").value == 123
    assert at.query_params == {"start": "test", "index": "123"}  # model=vae is the default: not repeated


def test_share_this_view_shows_the_link():
    at = open_link("6_gan.py", {"seed": "42", "truncation": "0.7"})
    at.button(key="links_share").click().run()
    ok(at)
    links = [c.value for c in at.code]
    assert links and links[0].endswith("?seed=42&truncation=0.7"), links
