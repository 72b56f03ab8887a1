"""Safety properties of the shipped app: server settings, verified weights, no pickle, no user HTML or paths.

Static checks parse the app's Python (``app.py``, ``pages/``, ``ui/``, ``rep_models/``) with ``ast``, so
a comment or a string mentioning ``torch.load`` does not trip them, and a real call cannot hide from them
behind formatting. The manifest checks run against the real ``pretrained/`` folder.
"""
from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pytest

from rep_models import checkpoint
from rep_models.checkpoint import CheckpointError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "pretrained"
APP_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
PACKAGE_FILES = sorted((ROOT / "rep_models").rglob("*.py"))
SHIPPED_SUFFIXES = (".safetensors", ".json", ".npz")
NOT_IN_MANIFEST = {"manifest.json", "metrics.json"}


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def dotted(node: ast.AST) -> str:
    """``st.markdown`` for the func of ``st.markdown(...)``; '' for anything that is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, dotted(node.func)


# ------------------------------------------------------------------------------------ server settings


def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_streamlit_config_is_locked_down():
    cfg = streamlit_config()
    server, client = cfg.get("server", {}), cfg.get("client", {})
    assert 1 <= server.get("maxUploadSize", 200) <= 10, "uploads are photos of one digit: keep the limit at a few MB"
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True
    assert server.get("headless") is True
    assert cfg.get("browser", {}).get("gatherUsageStats") is False
    # "none": the browser gets a generic message only; tracebacks and exception text stay in the server log.
    assert client.get("showErrorDetails") == "none"


def test_streamlit_config_names_are_real_options():
    """A misspelt option is silently ignored by Streamlit; every key must be one it knows."""
    from streamlit import config as st_config

    def keys(table: dict, prefix: str = ""):  # nested tables ([theme.light], [theme.dark]) as dotted names
        for name, value in table.items():
            yield from keys(value, f"{prefix}{name}.") if isinstance(value, dict) else [f"{prefix}{name}"]

    known = set(st_config._config_options_template)
    for key in keys(streamlit_config()):
        assert key in known, f"{key} is not a Streamlit {st_config.__name__} option"


def test_message_limit_bounds_what_the_app_sends_and_takes():
    """server.maxMessageSize is bounded (a public server must not read 200 MB messages), yet above what the app needs:
    the largest network sent to the page (its ONNX graph: 7.0 MB, the VAE's decoder) and a drawing up to the page's own
    limit (so the page, not the socket, says a drawing is too large)."""
    from rep_models import checkpoint, onnx_export
    from rep_models.image_decode import MAX_BYTES

    limit = streamlit_config()["server"].get("maxMessageSize", 200) * 1_000_000
    assert limit <= 32_000_000, "bound the websocket message size to what the app needs"
    assert limit > 4 * (MAX_BYTES // 3 + 1) + 100_000, "a drawing the page would refuse must reach the page to be refused"
    sizes = {name: len(onnx_export.export_bytes(name, checkpoint.load_pretrained(name))) for name in onnx_export.exportable()}
    assert sizes, "no network to send"
    assert max(sizes.values()) < limit / 2, f"a network sent to the page is near the websocket limit: {sizes}"


def test_upload_limit_is_within_the_decoder_limit():
    """Streamlit refuses files above maxUploadSize; decode_image's own byte limit must not be the smaller one."""
    from rep_models.image_decode import MAX_BYTES

    cfg = streamlit_config()
    assert cfg["server"]["maxUploadSize"] * 1024 * 1024 <= MAX_BYTES


def test_uploaders_accept_image_types_only():
    found = 0
    for path in APP_FILES:
        for node, name in calls(parse(path)):
            if name.endswith("file_uploader"):
                found += 1
                kw = {k.arg: k.value for k in node.keywords}
                assert "type" in kw, f"{rel(path)}:{node.lineno}: file_uploader without type= accepts any file"
                types = kw["type"]
                if isinstance(types, ast.Name):  # a module-level constant such as UPLOAD_TYPES
                    types = _module_constant(parse(path), types.id)
                values = ast.literal_eval(types)
                assert set(values) <= {"png", "jpg", "jpeg", "webp", "bmp", "gif"}, f"{rel(path)}:{node.lineno}: {values}"
    if not found:
        pytest.skip("no page has an uploader yet")


def _module_constant(tree: ast.Module, name: str) -> ast.AST:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.value
    raise AssertionError(f"{name} is not a module-level constant")


# ---------------------------------------------------------------------------------- shipped weights


def shipped_files() -> list[Path]:
    # *.state.safetensors is the trainer's resume state (git-ignored, deleted when a model finishes): not shipped.
    return sorted(p for p in PRETRAINED.iterdir()
                  if p.suffix in SHIPPED_SUFFIXES and p.name not in NOT_IN_MANIFEST and not p.name.endswith(".state.safetensors"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, str]:
    assert (PRETRAINED / "manifest.json").is_file(), "pretrained/manifest.json is missing (python -m rep_models.checkpoint manifest)"
    return checkpoint.read_manifest(PRETRAINED)


def test_manifest_lists_every_shipped_file(manifest):
    on_disk = {p.name for p in shipped_files()}
    assert on_disk - set(manifest) == set(), "shipped but not in pretrained/manifest.json (run checkpoint.write_manifest)"
    assert set(manifest) - on_disk == set(), "listed in pretrained/manifest.json but not shipped (or not a shipped kind)"


def test_manifest_hashes_match_the_files(manifest):
    wrong = [name for name, digest in manifest.items()
             if (PRETRAINED / name).is_file() and checkpoint.sha256_file(PRETRAINED / name) != digest]
    assert wrong == [], f"these files changed after the manifest was written: {wrong}"


def test_every_shipped_model_loads_through_the_manifest(manifest):
    """Each shipped card + weights pair passes load_pretrained's checks (card hash, manifest, shapes)."""
    names = checkpoint.available(PRETRAINED)
    assert names, "a manifest but no models"
    for name in names:
        checkpoint.load_pretrained(name, "cpu", PRETRAINED)


def _copy_shipped(name: str, dest: Path) -> Path:
    dest.mkdir()
    for f in (f"{name}.safetensors", f"{name}.json", "manifest.json"):
        shutil.copy2(PRETRAINED / f, dest / f)
    return dest


def _smallest_shipped(manifest) -> str:
    names = [n for n in checkpoint.available(PRETRAINED) if f"{n}.safetensors" in manifest]
    if not names:
        pytest.skip("no shipped model is listed in the manifest yet")
    return min(names, key=lambda n: (PRETRAINED / f"{n}.safetensors").stat().st_size)


@pytest.mark.parametrize("where", ["header", "middle", "last"])
def test_a_flipped_byte_in_shipped_weights_is_refused(manifest, tmp_path, where):
    name = _smallest_shipped(manifest)
    d = _copy_shipped(name, tmp_path / "pretrained")
    checkpoint.load_pretrained(name, "cpu", d)  # the untouched copy loads
    weights = d / f"{name}.safetensors"
    data = bytearray(weights.read_bytes())
    i = {"header": 12, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[i] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_pretrained(name, "cpu", d)
    assert f"{name}.safetensors" in str(err.value), "the message must name the file"


def test_an_edited_shipped_card_is_refused(manifest, tmp_path):
    name = _smallest_shipped(manifest)
    d = _copy_shipped(name, tmp_path / "pretrained")
    card = d / f"{name}.json"
    card.write_text(json.dumps({**json.loads(card.read_text()), "note": "edited"}, indent=2))
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_pretrained(name, "cpu", d)
    assert f"{name}.json" in str(err.value)


def test_write_manifest_covers_exactly_the_shipped_kinds(tmp_path):
    """What write_manifest records is what test_manifest_lists_every_shipped_file expects."""
    import torch

    from rep_models.models import build

    torch.manual_seed(0)
    checkpoint.save(build("linear_ae", latent_dim=2), tmp_path / "m")
    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "proj.npz").write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "notes.txt").write_text("not shipped")
    files = checkpoint.write_manifest(tmp_path)
    assert set(files) == {"m.safetensors", "m.json", "proj.npz"}
    assert files["m.safetensors"] == checkpoint.sha256_file(tmp_path / "m.safetensors")


# ------------------------------------------------------------------------------- no pickle anywhere
# Each checker returns a list of problems ("line: what"); the tests assert it is empty for the app's files,
# and test_the_checkers_catch_known_bad_code asserts it is not for code that does the wrong thing.

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
PICKLE_CALLS = {"torch.load", "torch.jit.load", "torch.serialization.load", "pd.read_pickle", "pandas.read_pickle"}


def pickle_problems(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad = {a.name.split(".")[0] for a in node.names} & PICKLE_MODULES
            if bad:
                out.append(f"{node.lineno}: imports {sorted(bad)}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in PICKLE_MODULES or (node.module == "torch" and any(a.name == "load" for a in node.names)):
                out.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in PICKLE_CALLS:
                out.append(f"{node.lineno}: {name}() unpickles")
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    out.append(f"{node.lineno}: allow_pickle")
    return out


@pytest.mark.parametrize("path", [*APP_FILES, *PACKAGE_FILES], ids=rel)
def test_no_pickle_loading(path):
    """Only safetensors, JSON and .npz (without allow_pickle) are read: nothing can execute code on load."""
    assert pickle_problems(parse(path)) == [], rel(path)


# ------------------------------------------------------------------------------ no user text as HTML


def html_problems(tree: ast.AST) -> list[str]:
    """Calls that render raw HTML (``unsafe_allow_html=True``, ``st.html``, ``components.html``) from anything
    but a literal string."""
    out = []
    for node, name in calls(tree):
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in node.keywords)
        parts = name.split(".")
        raw_html = parts[-1] == "html" and parts[0] in ("st", "streamlit", "components", "stc")
        if not (unsafe or raw_html):
            continue
        body = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("body", "html")), None)
        if not (isinstance(body, ast.Constant) and isinstance(body.value, str)):
            out.append(f"{node.lineno}: {name}(...) renders HTML built at run time")
    return out


@pytest.mark.parametrize("path", APP_FILES, ids=rel)
def test_html_is_only_ever_a_constant(path):
    """Render user text with st.text/st.caption/st.markdown (escaped); raw HTML only from a literal."""
    assert html_problems(parse(path)) == [], rel(path)


# ---------------------------------------------------------------------------- no user input as a path

USER_INPUT = {"file_uploader", "text_input", "text_area", "chat_input", "camera_input", "audio_input", "data_editor"}
PATH_SINKS = {"open", "Path", "PurePath", "join", "os.open", "os.remove", "os.unlink", "os.makedirs", "os.listdir",
              "shutil.copy", "shutil.copyfile", "shutil.move", "shutil.rmtree", "np.save", "np.savez", "np.load",
              "torch.save", "save_file", "load_file", "safe_open", "checkpoint.load", "checkpoint.save", "read_card",
              "load_pretrained", "write_manifest", "load_model", "require_model", "Image.open", "load_tensors", "glob"}
PATH_METHODS = {"write_text", "write_bytes", "read_text", "read_bytes", "joinpath", "with_name", "with_suffix", "mkdir",
                "unlink", "rglob", "glob", "iterdir", "open"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_user_input(value: ast.AST) -> bool:
    for c in ast.walk(value):
        if isinstance(c, ast.Call) and dotted(c.func).split(".")[-1] in USER_INPUT:
            return True
        if isinstance(c, ast.Attribute) and c.attr == "query_params":
            return True
    return False


def tainted_names(tree: ast.AST) -> set[str]:
    """Variables holding user input: assigned from a user-input widget or the URL's query parameters, or from
    an expression that uses such a variable (to a fixpoint; one module, no inter-procedural flow)."""
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, (ast.For, ast.comprehension)):
                targets, value = [node.target], node.iter
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                targets, value = [node.optional_vars], node.context_expr
            if value is None or not (_is_user_input(value) or _names(value) & tainted):
                continue
            new = set().union(*(_names(t) for t in targets)) - tainted
            if new:
                tainted |= new
                changed = True
    return tainted


def path_problems(tree: ast.AST) -> list[str]:
    """User input reaching a file-path sink, or an uploaded file's ``.name`` being read at all."""
    tainted = tainted_names(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "name" and (
                (isinstance(node.value, ast.Name) and node.value.id in tainted) or _is_user_input(node.value)):
            out.append(f"{node.lineno}: reads an uploaded file's .name")
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if not (name in PATH_SINKS or name.split(".")[-1] in PATH_SINKS or method in PATH_METHODS):
            continue
        args = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node.func, ast.Attribute):
            args.append(node.func.value)
        used = set().union(*(_names(a) for a in args)) if args else set()
        if used & tainted or any(_is_user_input(a) for a in args):
            out.append(f"{node.lineno}: {name or method}() gets user input {sorted(used & tainted)}")
    return out


@pytest.mark.parametrize("path", APP_FILES, ids=rel)
def test_no_user_input_becomes_a_file_path(path):
    """Uploaded names, typed text and URL parameters never reach open(), Path(), a loader or a writer."""
    assert path_problems(parse(path)) == [], rel(path)


BAD_CODE = """
import pickle
import streamlit as st
import numpy as np, torch
f = st.file_uploader("x", type=["png"])
target = "uploads/" + f.name
with open(target, "wb") as out:
    out.write(f.getvalue())
m = st.text_input("model")
load_pretrained(m)
q = st.query_params.get("who")
st.markdown(f"<b>hello {q}</b>", unsafe_allow_html=True)
st.html("<p>" + q + "</p>")
state = torch.load("w.pt")
arr = np.load("a.npz", allow_pickle=True)
"""
GOOD_CODE = """
import streamlit as st
from rep_models.image_decode import decode_image
f = st.file_uploader("x", type=["png"])
img = decode_image(f.getvalue()) if f else None
st.markdown("<hr/>", unsafe_allow_html=True)
st.caption(f"you typed {st.text_input('t')}")
model = load_pretrained("conv_ae")
"""


def test_the_checkers_catch_known_bad_code():
    """The static checks are only as good as their detection: each flags the bad snippet, none the good one."""
    bad, good = ast.parse(BAD_CODE), ast.parse(GOOD_CODE)
    assert {"f", "target", "m", "q"} <= tainted_names(bad)
    assert len(path_problems(bad)) >= 3  # f.name, open(target), load_pretrained(m)
    assert len(html_problems(bad)) == 2  # the f-string markdown and st.html
    assert len(pickle_problems(bad)) == 3  # import pickle, torch.load, allow_pickle=True
    assert path_problems(good) == [] and html_problems(good) == [] and pickle_problems(good) == []


# --------------------------------------------------------------------- a tampered model, in the page


def _drawing_png() -> str:
    """A white '1' on black as the canvas sends it: a data URL of a PNG."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    a = np.zeros((280, 280, 4), np.uint8)
    a[40:240, 130:160] = 255
    a[..., 3] = 255  # opaque: the canvas paints its black background
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_draw_page_with_tampered_weights_says_so_without_a_traceback(tmp_path, monkeypatch):
    """The classifier's weights flipped after the manifest was written: the page warns and goes on
    (the untouched autoencoder still reconstructs); nothing raises and no traceback text is shown."""
    import streamlit as st
    import torch
    from streamlit.testing.v1 import AppTest

    from rep_models.models import build

    page = ROOT / "pages" / "2_draw.py"
    d = tmp_path / "pretrained"
    torch.manual_seed(0)
    checkpoint.save(build("classifier"), d / "classifier")
    checkpoint.save(build("linear_ae", latent_dim=4), d / "linear_ae")
    checkpoint.write_manifest(d)
    weights = d / "classifier.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x40
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(checkpoint, "PRETRAINED_DIR", d)
    st.cache_resource.clear()  # models cached by earlier tests in this process came from the real folder
    try:
        at = AppTest.from_file(str(page), default_timeout=60)
        at.run()
        from ui import common as ui  # imported by the page; the same module object here

        at.session_state[ui.canvas_key("draw")] = {
            "drawing": {"raw": {"objects": []}, "data": _drawing_png()}, "backgroundFit": None}
        at.run()
    finally:
        st.cache_resource.clear()
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(w.value for w in at.warning) + " ".join(e.value for e in at.error)
    assert "could not be loaded" in warnings, warnings
    shown = " ".join(str(getattr(el, "value", "")) for el in [*at.markdown, *at.caption, *at.warning, *at.error, *at.info])
    assert "Traceback" not in shown and "CheckpointError" not in shown and str(d) not in shown
    assert any("Closest: **Linear**" in c.value for c in at.caption), "the untouched autoencoder should still reconstruct"


# ----------------------------------------------------------------- Train live cannot exhaust the server


def test_train_job_refuses_requests_beyond_the_limits():
    """The limits hold in rep_models, not only in the page's widgets (a crafted widget value cannot pass)."""
    import torch

    from rep_models.training.live import MAX_EPOCHS, MAX_SAMPLES, TrainJob

    x, y = torch.zeros(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)
    val = (x[:2], y[:2])
    for bad in (dict(epochs=0), dict(epochs=MAX_EPOCHS + 1), dict(epochs=10**9)):
        with pytest.raises(ValueError, match="epochs"):
            TrainJob("linear_ae", x, y, val, **bad)
    big = torch.zeros(MAX_SAMPLES + 1, 1, 1, 1).expand(-1, 1, 28, 28)  # no memory: a broadcast view
    with pytest.raises(ValueError, match="training images"):
        TrainJob("linear_ae", big, torch.zeros(len(big), dtype=torch.long), val)
    with pytest.raises(ValueError, match="training images"):
        TrainJob("linear_ae", x, y[:4], val)
    for name in ("sda", "classifier", "../pretrained/vae", ""):
        with pytest.raises(ValueError, match="cannot train"):
            TrainJob(name, x, y, val)
    assert MAX_EPOCHS <= 50 and MAX_SAMPLES <= 20_000  # "small": minutes, not hours, per job


def test_train_live_widgets_stay_within_the_limits():
    from streamlit.testing.v1 import AppTest

    from rep_models.training.live import MAX_EPOCHS, MAX_SAMPLES, TRAINABLE

    page = ROOT / "pages" / "9_train_live.py"
    at = AppTest.from_file(str(page), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    epochs = at.slider(key="train_epochs")
    assert 1 <= epochs.min and epochs.max <= MAX_EPOCHS
    samples = at.select_slider(key="train_samples")
    assert max(int(o) for o in samples.options) <= MAX_SAMPLES
    # the selectbox shows the recipes' titles: only models Train live may train
    assert set(at.selectbox(key="train_model").options) <= {r.title for r in TRAINABLE.values()}
    assert any("one training at a time" in c.value for c in at.caption)


# ------------------------------------------------------------------ the costliest legal upload is cheap

WORST_UPLOAD = r"""
import resource, sys, time
from pathlib import Path
from rep_models.image_decode import decode_image
from rep_models.preprocess import to_mnist

data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.process_time()
to_mnist(decode_image(data))
print(time.process_time() - t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "I;16"])
def test_the_costliest_legal_upload_is_cheap(mode, tmp_path):
    """A tiny PNG (tens of KB, well under the upload limit) claiming just under MAX_PIXELS is accepted, so its
    decoding must stay cheap: 30 students (or one script) sending it must not exhaust the server's RAM or CPU.
    Decoded in a fresh subprocess so the peak memory measured is the decoding's own."""
    import io
    import os
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    from rep_models.image_decode import MAX_PIXELS

    side = int(MAX_PIXELS**0.5) - 1  # just under the pixel limit: accepted
    a = np.full((side, side), 255, np.uint8)
    a[side // 4 : 3 * side // 4, side // 2 - side // 40 : side // 2 + side // 40] = 0  # a "1"
    img = Image.fromarray(a.astype(np.uint16) * 257) if mode == "I;16" else Image.fromarray(a).convert(mode)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=9)
    del a, img
    assert buf.tell() < 5 * 2**20  # it passes the 5 MB upload limit
    (tmp_path / "big.png").write_bytes(buf.getvalue())
    out = subprocess.run([sys.executable, "-c", WORST_UPLOAD, str(tmp_path / "big.png")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    cpu_s, peak_mb = (float(v) for v in out.stdout.split())
    kb = buf.tell() / 1e3
    # 200 MB: 30 students sending it at once stay within a few GB. Shrinking to ~2 x WORK_SIDE before any
    # conversion (Image.reduce; JPEG: Image.draft) costs well under 100 MB.
    assert peak_mb < 200, f"{mode}: decoding one {kb:.0f} KB upload ({side}x{side}) took {peak_mb:.0f} MB extra RAM"
    assert cpu_s < 3.0, f"{mode}: decoding one {kb:.0f} KB upload ({side}x{side}) took {cpu_s:.1f} CPU seconds"
