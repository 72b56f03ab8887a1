"""The vendored in-page runtime (static/ort/): the files its README lists, unchanged, with their licence; the app
serves them (static serving on) with the MIME types a browser needs (a module script, streamed WebAssembly)."""
from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
ORT = ROOT / "static" / "ort"


def listed() -> dict[str, str]:
    """``{file: sha256}`` from the table in static/ort/README.md."""
    return dict(re.findall(r"^\| `([^`]+)`[^|]*\| [\d,]+ \| `([0-9a-f]{64})` \|$", (ORT / "README.md").read_text(), re.M))


def test_the_vendored_files_are_the_ones_listed_with_their_licence():
    files = listed()
    assert set(files) == {"ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"}
    for name, sha in files.items():
        assert hashlib.sha256((ORT / name).read_bytes()).hexdigest() == sha, f"static/ort/{name} changed"
    assert "MIT License" in (ORT / "LICENSE").read_text() and "Microsoft" in (ORT / "LICENSE").read_text()
    assert "v1.30.0" in (ORT / "ort.wasm.min.mjs").read_text()[:200]  # the version the README and the runtime name
    assert set(p.name for p in ORT.iterdir()) == {*files, "LICENSE", "README.md"}  # nothing unlisted is served


def test_static_serving_is_on_and_the_types_are_right():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableStaticServing"] is True
    import ui.live  # noqa: F401 - registers the types Streamlit's static serving names files by

    assert mimetypes.guess_type("x.mjs")[0] in ("text/javascript", "application/javascript")
    assert mimetypes.guess_type("x.wasm")[0] == "application/wasm"
