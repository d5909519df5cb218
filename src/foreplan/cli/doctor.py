"""``foreplan doctor`` and ``foreplan --version``: what to paste into a bug report.

    foreplan --version            foreplan 0.1.0
    foreplan doctor               versions of the pieces that decide behaviour, and the
                                  embedded model files with their sha256 and state
    foreplan doctor --verify      hash the assembled model files again (seconds per GB)
    foreplan doctor --json        the same as one JSON object

The versions are read from the installed distributions' metadata, so nothing heavy
(torch, llama.cpp) is imported and the command answers at once.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from typing import Annotated, Any

import typer
from rich.table import Table

from foreplan.cli.common import DebugOpt, errors, out

#: The distributions whose version changes what foreplan does (inference, training,
#: export, serving), in the order a reader looks for them.
PIECES = ("llama-cpp-python", "transformers", "peft", "torch", "accelerate", "gguf", "pydantic", "typer",
          "fastapi", "uvicorn", "httpx", "jinja2", "sqlalchemy", "sqlglot", "mcp", "bitsandbytes")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def foreplan_version() -> str:
    return _version("foreplan") or "unknown (not installed as a distribution)"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"foreplan {foreplan_version()}", highlight=False)
        raise typer.Exit()


def version_option(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print foreplan's version and exit.")] = False,
) -> None:
    """Plan every step up front, call tools in parallel, solve from the evidence."""


def report(verify: bool = False) -> dict[str, Any]:
    """Versions, platform and the embedded model files, as plain data."""
    from foreplan.errors import ModelFileError
    from foreplan.llm.adapters import ADAPTERS, adapter_path
    from foreplan.llm.registry import MODELS, cache_dir, is_pulled, model_path, verify_file

    models = []
    for m in MODELS.values():
        path = model_path(m)
        state = "verified (stamp)" if is_pulled(m) else ("present, not verified" if path.exists() else "not assembled")
        if verify and path.exists():
            try:
                verify_file(path, m)
                state = "verified (hashed now)"
            except ModelFileError as exc:
                state = f"BAD: {exc}"
        models.append({"name": m.name, "sha256": m.sha256, "size": m.size, "path": str(path), "state": state})
    adapters = []
    for a in ADAPTERS.values():
        try:
            state, where = "verified", str(adapter_path(a))
        except ModelFileError as exc:
            state, where = f"BAD: {exc}", ""
        adapters.append({"name": a.name, "base": a.base, "sha256": a.sha256, "path": where, "state": state})
    return {
        "foreplan": foreplan_version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {dist: _version(dist) for dist in PIECES},
        "model_cache": str(cache_dir()),
        "models": models,
        "adapters": adapters,
    }


def doctor(
    verify: Annotated[bool, typer.Option("--verify", help="Hash the assembled model files again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Versions of the pieces that matter in a bug report, and the embedded models' hashes."""
    with errors(as_json, debug):
        facts = report(verify)
        if as_json:
            out.print_json(json.dumps(facts))
            return
        out.print(f"foreplan {facts['foreplan']} · Python {facts['python']} · {facts['platform']}", highlight=False)
        versions = Table("package", "version", title="packages")
        for dist, version in facts["packages"].items():
            versions.add_row(dist, version or "[dim]not installed[/]")
        out.print(versions)
        # Plain lines, not a table: a bug report needs the whole hash and path, unwrapped.
        out.print(f"embedded models (cache: {facts['model_cache']}):", highlight=False)
        for row in [*facts["models"], *facts["adapters"]]:
            out.print(f"  {row['name']}  sha256 {row['sha256']}  {row['state']}  {row['path']}",
                      highlight=False, soft_wrap=True)
