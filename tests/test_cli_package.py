"""The CLI package's shape: command modules import only common.py (and view.py), so
the package has no import cycle, and every command's errors take the one path."""

from __future__ import annotations

import ast
from pathlib import Path

import foreplan.cli.common

CLI = Path(foreplan.cli.common.__file__).parent


def _cli_imports(path: Path) -> set[str]:
    """The modules of foreplan.cli that ``path`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("foreplan.cli."):
                found.add(node.module.split(".")[2])
            elif node.module == "foreplan.cli":
                found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("foreplan.cli.")}
    return found


def _graph() -> dict[str, set[str]]:
    return {p.stem: _cli_imports(p) for p in CLI.glob("*.py")}


def test_the_cli_package_has_no_import_cycle():
    graph = _graph()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in graph.get(node, set()):
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


def test_command_modules_import_only_common_and_view():
    graph = _graph()
    registrars = {"__init__", "__main__", "commands"}
    for module, imports in graph.items():
        if module not in registrars:
            assert imports <= {"common", "view"}, (module, imports)
    assert graph["commands"] >= {"run", "models", "serve", "doctor", "tools", "eval", "data", "export", "train", "demo"}


def test_one_console_pair_and_one_error_path():
    for path in CLI.glob("*.py"):
        text = path.read_text()
        if path.stem != "common":
            assert "Console(" not in text, f"{path.name} makes its own Console; use common.out / common.err"
            assert "def errors(" not in text and "except ForeplanError" not in text, path.name
        assert "raise typer.Exit(1)" not in text or path.stem in {"common", "tools"}, path.name
