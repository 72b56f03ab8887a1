"""Imports run one way: pages -> ui -> rep_models, with no circle inside rep_models/ or ui/ (imports made
inside functions counted), and rep_models never reaches up to the app."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    out = {}
    for p in [*(ROOT / "rep_models").rglob("*.py"), *(ROOT / "ui").glob("*.py")]:
        parts = p.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in its file (top level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                if target in known:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
    found.discard(name)
    return found


def test_no_import_circle_in_rep_models_or_ui():
    known = _modules()
    graph = {m: _imports(m, p, known) for m, p in known.items()}
    # a package's __init__ importing its own submodules is not a circle: leave those edges out
    graph = {m: {t for t in ts if not (m and t.startswith(m + "."))} for m, ts in graph.items()}
    circles = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                circles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not circles, circles


def test_rep_models_imports_nothing_of_the_app():
    for p in (ROOT / "rep_models").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad = [n for n in names if n.split(".")[0] in ("ui", "pages", "streamlit", "bench", "harness")]
            assert not bad, f"{p.relative_to(ROOT)} imports {bad}"


def _project_module_names() -> dict[str, Path]:
    """Every module and package of rep_models/, ui/ and harness/ by its own (last) name."""
    out = {}
    for top in ("rep_models", "ui", "harness"):
        for p in (ROOT / top).rglob("*.py"):
            out[p.parent.name if p.name == "__init__.py" else p.stem] = p
    return out


def test_no_module_shadows_the_standard_library():
    """A module named like a standard-library one (``inspect``, ``code``, ``types``…) hides it from the package's
    own imports and confuses every reader; so does one named like an installed top-level package's import."""
    import sys

    shadows = {name: p.relative_to(ROOT).as_posix() for name, p in _project_module_names().items() if name in sys.stdlib_module_names}
    assert not shadows, shadows


def test_the_shadow_check_sees_a_shadowing_module(tmp_path, monkeypatch):
    """The check above is real: a module ``inspect.py`` in rep_models/ would fail it."""
    import sys

    fake = tmp_path / "rep_models" / "inspect.py"
    fake.parent.mkdir()
    fake.write_text("")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert "inspect" in _project_module_names() and "inspect" in sys.stdlib_module_names


def test_tests_import_nothing_of_bench():
    """What tests and bench/ both need lives in harness/; a test never imports bench/ (at the top or inside a function)."""
    bad = []
    for p in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad += [f"{p.name}:{node.lineno}" for n in names if n.split(".")[0] == "bench"]
    assert not bad, bad
