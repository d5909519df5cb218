"""The ``foreplan`` command, one module per command group.

    commands.py  registers every command on one typer app (the only module that
                 imports the command modules)
    common.py    the one error path, the consoles, the shared options, building
                 toolkits, models and agents
    run.py       run, plan            models.py   models list | pull
    runs.py      runs (memory)
    serve.py     serve                doctor.py   doctor, --version
    tools.py     tools, corpus        demo.py     demo
    eval.py      eval qa | planner | bfcl          data.py   data synth-plans | caller
    train.py     train                export.py   export lora | merge
    view.py      the live terminal view of a run

Command modules import common.py (and view.py), never commands.py or each other
(tests/test_cli_package.py checks it). ``app`` and ``main`` are loaded on first use, so
``python -m foreplan.cli.train`` (under ``accelerate launch``) does not build the app.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from foreplan.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module 'foreplan.cli' has no attribute {name!r}")
