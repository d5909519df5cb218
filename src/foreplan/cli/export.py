"""``foreplan export``: a trained LoRA adapter, made into files llama.cpp runs.

    foreplan export lora  ADAPTER_DIR --base qwen2.5-coder-0.5b -o planner-lora.gguf [--verify]
    foreplan export merge ADAPTER_DIR --base qwen2.5-coder-0.5b --quant Q4_K_M -o planner.gguf [--verify]

``--verify`` scores the export against its source on a few prompts (greedy tokens,
teacher-forced) and exits 1 when too few agree, so a broken export never looks done.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from foreplan.cli.common import DebugOpt, err, errors, out

export_app = typer.Typer(no_args_is_help=True, help="Export a LoRA adapter: as a GGUF adapter, or merged and quantized.")
AdapterArg = Annotated[Path, typer.Argument(help="PEFT adapter folder (adapter_config.json + adapter_model.safetensors).")]
BaseOpt = Annotated[str, typer.Option("--base", help="Base model: embedded name (foreplan models list) or .gguf path.")]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="GGUF file to write.")]
VerifyOpt = Annotated[bool, typer.Option("--verify", help="Compare greedy tokens with the source; exit 1 if they disagree.")]
PromptOpt = Annotated[list[str] | None, typer.Option("--prompt", help="Prompt for --verify (repeatable; default: 4 built-in).")]
TokensOpt = Annotated[int, typer.Option("--tokens", min=1, max=256, help="Tokens generated per --verify prompt.")]
MinOpt = Annotated[float | None, typer.Option("--min-agreement", min=0.0, max=1.0, help="Least token agreement --verify accepts (default: 0.9; 0.8 for 2-6 bit types).")]


class _Bars:
    """A rich progress bar per step; the export functions call it as report(step, done, total)."""

    def __init__(self) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err)
        self.tasks: dict[str, Any] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(step, total=total or None)
        self.progress.update(self.tasks[step], completed=done, total=total or None)

    def __enter__(self) -> _Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _show_agreement(agreement: Any, least: float, what: str) -> None:
    from foreplan.errors import VerificationError
    from foreplan.export.verify import NEAR_TIE

    table = Table("prompt", "agreed", "changed by adapter", "source continuation", title=f"--verify: {what}")
    for p in agreement.prompts:
        ties = f" ({p.near_ties} near-tie)" if p.near_ties else ""
        table.add_row(escape(p.prompt[:40]), f"{p.agreed}/{p.tokens}{ties}", str(p.changed_by_adapter),
                      escape(p.source_text[:60].replace("\n", "⏎")))
    out.print(table)
    out.print(f"token agreement {agreement.ratio:.1%} (needs {least:.0%}; a near-tie is a miss by under "
              f"{NEAR_TIE} logits); the adapter changes "
              f"{agreement.changed_ratio:.1%} of the source's tokens against the bare base")
    if agreement.changed_ratio == 0:
        err.print("[yellow]Warning:[/] the adapter changes no greedy token on these prompts; "
                  "the check cannot tell a good export from a missing adapter.")
    if agreement.ratio < least:
        raise VerificationError(
            f"The export agrees with its source on only {agreement.ratio:.1%} of tokens (needs {least:.0%}). "
            "Do not use it: check that --base is the model the adapter was trained on, or try a "
            "higher-precision --quant (Q8_0)."
        )


def _read_base(bars: Any, base: str) -> Any:
    """Open the base GGUF (seconds for a large vocabulary) under its own progress line."""
    from foreplan.export.base import open_base

    bars("reading base GGUF", 0, 0)
    opened = open_base(base)
    bars("reading base GGUF", 1, 1)
    return opened


@export_app.command("lora")
def export_lora_cmd(adapter: AdapterArg, base: BaseOpt, output: OutOpt, verify: VerifyOpt = False,
                    prompt: PromptOpt = None, tokens: TokensOpt = 32, min_agreement: MinOpt = None,
                    outtype: Annotated[str, typer.Option("--outtype", help="f16 (default, half the size) or f32.")] = "f16",
                    debug: DebugOpt = False) -> None:
    """Write the adapter as a GGUF LoRA adapter (llama.cpp lora_path / llama-server --lora)."""
    from foreplan.export.adapter import read_adapter
    from foreplan.export.lora import export_lora

    with errors(False, debug):
        start = time.monotonic()
        read_adapter(adapter)  # a bad folder fails before the base takes seconds to read
        with _Bars() as bars:
            base_gguf = _read_base(bars, base)
            result = export_lora(adapter, base_gguf, output, report=bars, outtype=outtype)
        out.print(f"wrote {result.path} ({result.size / 1e6:.1f} MB, {result.tensors} adapted tensors, "
                  f"alpha {result.alpha:g}) in {time.monotonic() - start:.1f} s")
        if verify:
            from foreplan.export.verify import DEFAULT_PROMPTS, load_peft_model, min_agreement as least, verify_lora

            with _Bars() as bars:
                bars("loading the HF + PEFT model (transformers)", 0, 0)
                model = load_peft_model(base_gguf.path, adapter)
                bars("loading the HF + PEFT model (transformers)", 1, 1)
                bars("greedy decoding and scoring", 0, 0)
                agreement = verify_lora(model, base_gguf.path, result.path, tuple(prompt or DEFAULT_PROMPTS), tokens)
                bars("greedy decoding and scoring", 1, 1)
            _show_agreement(agreement, least("lora") if min_agreement is None else min_agreement,
                            "base + GGUF adapter (llama.cpp) vs HF + PEFT")


@export_app.command("merge")
def export_merge_cmd(adapter: AdapterArg, base: BaseOpt, output: OutOpt,
                     quant: Annotated[str, typer.Option("--quant", help="Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0, F16, ...")] = "Q8_0",
                     verify: VerifyOpt = False, prompt: PromptOpt = None, tokens: TokensOpt = 32,
                     min_agreement: MinOpt = None, debug: DebugOpt = False) -> None:
    """Merge the adapter into the base GGUF and quantize the result."""
    from foreplan.export.adapter import read_adapter
    from foreplan.export.lora import export_lora
    from foreplan.export.merge import export_merged

    with errors(False, debug):
        start = time.monotonic()
        read_adapter(adapter)  # a bad folder fails before the base takes seconds to read
        with _Bars() as bars:
            base_gguf = _read_base(bars, base)
            result = export_merged(adapter, base_gguf, output, quant, report=bars)
        out.print(f"wrote {result.path}: {result.quant}, {result.size / 1e6:.1f} MB, "
                  f"{result.bits_per_weight:.2f} bits per weight, {result.merged_tensors} tensors merged, "
                  f"in {time.monotonic() - start:.1f} s")
        if verify:
            from foreplan.export.verify import DEFAULT_PROMPTS, min_agreement as least, verify_merged

            with tempfile.TemporaryDirectory() as tmp, _Bars() as bars:
                lora_gguf = export_lora(adapter, base_gguf, Path(tmp) / "adapter.gguf").path
                bars("greedy decoding and scoring", 0, 0)
                agreement = verify_merged(result.path, base_gguf.path, lora_gguf, tuple(prompt or DEFAULT_PROMPTS), tokens)
                bars("greedy decoding and scoring", 1, 1)
            _show_agreement(agreement, least(result.quant) if min_agreement is None else min_agreement,
                            f"merged {result.quant} vs base + adapter (llama.cpp)")
