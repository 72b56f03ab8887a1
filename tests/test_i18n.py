"""简体中文 beside English (ui/i18n.py, ui/strings/): both tables have the same keys and the same {fields}, every key
the code asks for exists, the sidebar's picker and ``?lang=zh`` switch the language, and every page in Chinese shows
no English of its own: every text of the page (titles, explanations, labels, options, help, captions, messages,
chart titles and legends) is looked at, and a word of Latin letters must be a name or a symbol (MNIST, VAE, PCA …).
The pages run through app.py (the sidebar and the menu too) on the shipped models, as a visitor gets them."""
from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import nav
from ui.strings import en, zh

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

# Words of Latin letters that a Chinese page may show: names of models, methods, data sets, formats and units,
# file names and commands shown as such, and the picker's own "English" / "Language".
ALLOWED = {w.lower() for w in """
    Latent Lab MNIST VAE VAEs GAN GANs DCGAN cDCGAN StyleGAN CVAE MLP PCA UMAP SNE SimCLR SdA CNN CPU GPU PNG JPEG WebP BMP GIF CSV
    JSON ZIP PSNR ELBO AUROC KL NN PyTorch safetensors nat slerp Fréchet ReLU Leaky tanh
    English Language
""".split()}


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_both_languages_have_every_key_with_the_same_fields():
    extra = set(zh.STRINGS) - set(en.STRINGS)  # only a model's words may come first, ready for its catalogue entry
    assert all(k.startswith("model.") for k in extra), sorted(extra)
    missing = sorted(set(en.STRINGS) - set(zh.STRINGS))
    assert not missing, f"keys missing in ui/strings/zh.py: {missing}"
    for key, text in en.STRINGS.items():
        assert _fields(text) == _fields(zh.STRINGS[key]), key
    for source, target in zh.FROM_ENGLISH.items():
        assert _fields(source) == _fields(target), source


def _asked_keys() -> set[str]:
    """Every literal key passed to t(...) in app.py, ui/ and pages/, and the f-string keys' fixed prefixes (as 'prefix*')."""
    keys = set()
    for path in [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("t", "Later") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    keys.add(arg.value)
                elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                    keys.add(arg.values[0].value + "*")
    return keys


def test_every_key_the_code_asks_for_exists():
    asked = _asked_keys()
    assert len(asked) > 200
    missing = [k for k in asked if not (any(e.startswith(k[:-1]) for e in en.STRINGS) if k.endswith("*") else k in en.STRINGS)]
    assert not missing, missing
    for spec in [nav.HOME, *nav.PAGES]:
        assert en.STRINGS[f"nav.{spec.url_path}"] == spec.title and f"nav.section.{spec.section}" in en.STRINGS or not spec.section


def test_cached_work_spinners_come_from_the_table_in_the_sessions_language(monkeypatch):
    """A cached function's spinner is set at import; ``Later`` looks its key up when Streamlit shows it (str())."""
    from ui import i18n

    literal = []
    for path in [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "show_spinner" and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                literal.append(f"{path.name}: {node.value.value}")
    assert not literal, f"spinners written in English, not through ui.i18n.Later: {literal}"
    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    assert str(i18n.Later("spin.model")) == zh.STRINGS["spin.model"] != en.STRINGS["spin.model"]
    monkeypatch.setattr(i18n, "lang", lambda: "en")
    assert str(i18n.Later("spin.model")) == en.STRINGS["spin.model"]


# ------------------------------------------------------------------------------------------- the pages


def _strings(node, out: list[str]) -> None:
    """Every displayed string in a protobuf message: strings of its fields, recursively, without ids, keys, icons,
    URLs and the in-page components' data (which carry numbers and names); plotly figures by their texts."""
    for field, value in node.ListFields():
        name = field.name
        if name in {"id", "key", "icon", "url", "form_id", "component_name", "bytes", "deferred_file_id", "theme", "element_hash",
                    "query_param_key", "dg_id", "data_type", "format", "mimetype", "file_name", "js", "css", "html",
                    "page_script_hash", "main_script_hash", "fragment_id", "page_name", "url_pathname", "page", "js_content",
                    "type"}:
            continue
        if name == "spec" and isinstance(value, str):  # a plotly figure: its titles, names, annotations and hover texts
            _figure_strings(json.loads(value), out)
            continue
        values = value if isinstance(value, (list, tuple)) or (hasattr(value, "__len__") and not isinstance(value, str)
                                                               and not hasattr(value, "ListFields")) else [value]
        for v in values:
            if isinstance(v, str):
                if name == "json":
                    _component_strings(v, out)
                else:
                    out.append(v)
            elif hasattr(v, "ListFields"):
                _strings(v, out)


def _figure_strings(obj, out: list[str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in {"text", "name", "hovertemplate"} and isinstance(v, str):
                out.append(v)
            elif k != "images":
                _figure_strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _figure_strings(v, out)


def _component_strings(text: str, out: list[str]) -> None:
    """An in-page component's data: its labels, notes and words (the latent sliders' labels, the frame player's note)."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    if isinstance(data, dict):
        for k in ("labels", "note"):
            v = data.get(k)
            out.extend(x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str))
        if isinstance(data.get("text"), dict):  # the words the component itself draws (ui/js/dom.js: tx)
            out.extend(v for v in data["text"].values() if isinstance(v, str))


def page_texts(at: AppTest) -> list[str]:
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            _strings(proto, out)
        children = getattr(node, "children", None)
        for c in (children.values() if isinstance(children, dict) else []):
            walk(c)

    walk(at.main)
    walk(at.sidebar)
    return [s for s in out if s.strip() and not re.fullmatch(r"[0-9a-f]{12,}|\w+_\d+", s) and not _is_json(s)]  # not ids, settings


def _is_json(s: str) -> bool:
    try:
        return isinstance(json.loads(s), (dict, list))
    except ValueError:
        return False


def english_words(text: str) -> list[str]:
    """The words of Latin letters in ``text`` that are not names or symbols, after removing what is not prose:
    code spans, file names, markup, plotly's %{…} fields and HTML tags."""
    t = re.sub(r"`[^`]*`", " ", text)
    t = re.sub(r"\]\([^)\s]*\)", "] ", t)  # a markdown link's target (a page's address, not prose)
    t = re.sub(r"%\{[^}]*\}|\{\w+\}|<[^>]+>|:material/\w+:|:\w+\[|\*\*", " ", t)
    t = re.sub(r"[\w.-]+(/[\w.-]+)+", " ", t)  # paths (pretrained/metrics.json)
    t = re.sub(r"\b[\w.-]+\.(py|npz|json|safetensors|zip|png|gif|csv)\b", " ", t)
    t = re.sub(r"\b\w+\.\w+(\.\w+)+\b", " ", t)  # dotted names (rep_models.checkpoint.load)
    t = re.sub(r"\b\w+=\w+\b", " ", t)  # a link's parameter (present=1)
    return [w for w in re.findall(r"[A-Za-zéÉ][A-Za-zéÉ'’]{2,}", t) if w.lower() not in ALLOWED]


def test_english_words_finds_prose_but_not_names():
    assert english_words("Sliders") == ["Sliders"]
    assert english_words("VAE（32 维）· 用 `python -m rep_models.evaluate` · pretrained/metrics.json · %{x:,} 个") == []
    assert english_words("t-SNE 与 UMAP") == []
    assert english_words("[少量标签](few_labels?lang=zh)") == [] and english_words("[few labels](few_labels)") == ["few", "labels"]


STATES = {  # a page -> the link it is opened with (more of the page's text appears)
    "draw": {}, "denoise": {}, "vae": {"start": "test"}, "latent_map": {"place": "test"}, "linear_pca": {}, "gan": {"model": "cdcgan"},
    "few_labels": {}, "train_live": {}, "lesson": {"step": "14"},
}


def _open_zh(url_path: str | None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in {"lang": "zh", **(params or {})}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    if url_path:
        spec = next(p for p in nav.PAGES if p.url_path == url_path)
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
    return at


def test_the_sidebar_picker_and_the_link_switch_the_language():
    at = _open_zh(None)
    assert at.title[0].value == "Latent Lab" and any("模型一览" in s.value for s in at.subheader)
    assert at.segmented_control(key="lang").value == "zh"
    assert at.query_params.get("lang") == "zh"  # kept in the URL, so a shared link opens in Chinese
    at.segmented_control(key="lang").set_value("en").run()
    assert any(s.value == "The models" for s in at.subheader)
    assert "lang" not in at.query_params  # English is the default: not in the URL


@pytest.mark.parametrize("url_path", [None, *STATES])
def test_a_page_in_chinese_shows_no_english_of_its_own(url_path):
    at = _open_zh(url_path, STATES.get(url_path))
    sections = {"vae": ("vae_section", ["sliders", "map", "interpolate", "beta", "cvae"]),
                "gan": ("gan_section", ["samples", "walk", "interpolate", "collapse"]),
                "train_live": ("train_section", ["train", "gan"])}.get(url_path)
    views = [None] + (sections[1][1:] if sections else [])
    found = {}
    for view in views:
        if view is not None:
            at.session_state[sections[0]] = view  # not set_value: AppTest would format the option in English, in its own thread
            at.run()
            assert not at.exception, at.exception
        texts = page_texts(at)
        assert any(re.search(r"[\u4e00-\u9fff]", s) for s in texts), "no Chinese at all"
        for s in texts:
            words = english_words(s)
            if words:
                found[s[:120]] = words
    assert not found, found
