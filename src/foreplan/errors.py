"""Every error foreplan raises on purpose, as one tree.

A user sees the message of one of these, never a traceback (the CLI shows tracebacks
only behind ``--debug``). Each message says what happened and what to do about it.

    ForeplanError
    ├── ConfigError                 bad instruction, option or file given by the user
    │   ├── ToolsFileError          a ``--tools`` file that is missing, fails to import or defines no tool
    │   ├── ToolDefinitionError     a function that cannot become a tool (missing hint or docs)
    │   └── ExportError             an adapter or base model that cannot be exported
    ├── ModelError
    │   ├── UnknownModelError       a ``--model`` that is no registry name, GGUF path or openai: URL
    │   ├── ModelFileError          a missing part, a partial or corrupt model file
    │   ├── MissingExtraError       an optional dependency is not installed (names the pip install)
    │   ├── VerificationError       an export whose greedy tokens disagree with its source's
    │   └── LLMError                a backend failed while generating (HTTP error, load failure)
    │       └── ScriptExhaustedError  the scripted test LLM ran out of replies
    ├── PlanError
    │   ├── PlanParseError          text that is not a plan (with line and column)
    │   └── PlanInvalidError        a plan that parses but cannot run, after one repair attempt
    ├── TrainError                  fine-tuning cannot start or go on
    │   ├── TrainConfigError        an unknown flag, a bad value, a folder that would be overwritten
    │   └── DatasetError            a dataset that is missing, empty or has unusable rows
    │       ├── RowError            one row that cannot become a conversation (train/formats.py)
    │       └── Dropped             one source row or synthesized call left out (synth/caller_data.py)
    ├── ToolError                   raised *inside* tools: becomes evidence, never ends a run
    │   └── RetryableToolError      a failure worth trying again (network blip, rate limit)
    └── RunCancelled                the user pressed Ctrl-C; the partial result is attached

Also ``DatasetError`` (and so ``RowError``, ``Dropped``) and ``TrainConfigError`` are
``ConfigError``s; ``RowError`` and ``Dropped`` are ``ValueError``s too, since they are
counted per row where they are raised and rarely leave their module. ``MissingExtraError``
has ``BfclNotInstalledError`` (eval/bfcl_data.py), which names bfcl-eval's own install.

Outside the tree, on purpose: the server's ``APIError`` family (serve/errors.py) is an
HTTP answer (status, OpenAI error type, code), raised and answered only inside the
server, which maps every ``ForeplanError`` to one of them; keeping the two apart means an
``except ForeplanError`` in the server can never swallow an answer meant for the client.
``GenerationCancelled`` (serve/streaming.py) is the server's signal that a client has
gone, and never leaves its worker thread.

Tool failures are not run failures: the worker records them as evidence so that the
solver (and the user) can see "step 2 failed: timeout after 10 s" and the run goes on.
"""

from __future__ import annotations

from typing import Any


class ForeplanError(Exception):
    """Base of every error foreplan raises on purpose."""


class ConfigError(ForeplanError):
    """The user gave an instruction, option or file that cannot be used."""


class ToolsFileError(ConfigError):
    """A ``--tools`` file is missing, fails to import, or defines no tool."""


class ToolDefinitionError(ConfigError):
    """A function cannot become a tool: a parameter lacks a type hint or documentation."""


class ModelError(ForeplanError):
    """A model cannot be found, assembled, loaded or used."""


class UnknownModelError(ModelError):
    """A model spec is neither a registry name, a GGUF path nor an ``openai:`` URL."""


class ModelFileError(ModelError):
    """A model file is missing, partial or corrupt, or a chunk package is missing."""


class MissingExtraError(ModelError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"This needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 'foreplan[{extra}]'"
        )


class LLMError(ModelError):
    """A backend failed while generating (HTTP error, load failure, bad reply)."""


class PromptTooLongError(LLMError):
    """A prompt that no context of the model can hold: raised before any model work."""


class ScriptExhaustedError(LLMError):
    """The scripted LLM was asked for more replies than its script holds."""


class PlanError(ForeplanError):
    """The planner's output cannot be used as a plan."""


class PlanParseError(PlanError):
    """Text that is not a ReWOO plan; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, *, text: str, line: int, column: int) -> None:
        self.reason = message
        self.text = text
        self.line = line
        self.column = column
        super().__init__(f"line {line}, column {column}: {message}")


class PlanInvalidError(PlanError):
    """A plan that still fails to parse or validate after one repair attempt."""

    def __init__(self, text: str, problems: list[str]) -> None:
        self.text = text
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            "The planner did not produce a valid plan, even after being shown its errors.\n"
            f"Plan:\n{text.strip() or '(empty)'}\nProblems:\n{listed}\n"
            "Try a larger planner model (--model), rephrase the instruction, or keep the grammar on."
        )


class TrainError(ForeplanError):
    """Fine-tuning cannot start or go on (memory, model, targets)."""


class TrainConfigError(TrainError, ConfigError):
    """An unknown training flag, a bad value, or an output folder that would be overwritten."""


class DatasetError(TrainError, ConfigError):
    """A training dataset is missing, empty, in an unknown format or has unusable rows."""


class ExportError(ConfigError):
    """An adapter or base model that cannot be exported; the message says what to do."""


class VerificationError(ModelError):
    """An export whose greedy tokens disagree with its source's: not to be used."""


class ToolError(ForeplanError):
    """Raised by a tool to report a failure the solver should read; never ends a run."""


class RetryableToolError(ToolError):
    """A tool failure that may succeed when tried again (the worker retries with backoff)."""


class RunStoreError(ForeplanError):
    """The run store (memory.py) could not be read or written."""


class RunCancelled(ForeplanError):
    """The run was cancelled (Ctrl-C); ``partial`` holds what finished before."""

    def __init__(self, partial: Any = None) -> None:
        self.partial = partial
        super().__init__("Run cancelled; steps still running were abandoned.")
