"""The layers in DESIGN.md, checked: imports point down only, heavy extras stay inside."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import foreplan

PACKAGE = Path(foreplan.__file__).parent

#: Each layer may import from itself and from the layers listed for it.
LAYERS = {
    "errors": set(), "types": set(), "events": {"types"}, "bridge": set(),
    "tools": {"errors", "types", "llm"}, "llm": {"errors", "types"}, "prompts": set(),
    "plan": {"errors", "types", "tools", "llm", "prompts"},
    "execute": {"errors", "types", "events", "tools", "llm", "prompts"},
    "solve": {"errors", "types", "llm", "prompts"},
    "trace": {"events"},
    "memory": {"errors", "types", "tools"},
    "agent": {"errors", "types", "events", "bridge", "tools", "llm", "plan", "execute", "solve", "trace", "prompts",
              "memory"},
    "train": {"errors", "types", "llm"}, "export": {"errors", "types", "llm"},
}
ENTRY_POINTS = {"cli", "serve", "eval", "synth", "__init__"}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("foreplan."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("foreplan.")}
    return found


def test_imports_point_down_only():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer in ENTRY_POINTS:
            continue
        allowed = LAYERS[layer] | {layer}
        for target in _imports(path) - allowed:
            wrong.append(f"{path.relative_to(PACKAGE)} imports foreplan.{target}")
    assert wrong == []


def test_nothing_imports_the_entry_points():
    for path in PACKAGE.rglob("*.py"):
        if _layer(path) not in ENTRY_POINTS:
            assert not _imports(path) & (ENTRY_POINTS - {"__init__"}), path


def test_import_foreplan_stays_light():
    code = "import sys, foreplan; print(sorted({m.split('.')[0] for m in sys.modules} & {'llama_cpp', 'httpx', 'typer', 'rich', 'torch', 'fastapi', 'numpy'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
