"""The training progress bar: step, loss, learning rate, tokens/s (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainProgress:
    def __init__(self, total: int, start: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}  {task.fields[speed]}"),
            TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled,
        )
        self._task = self._progress.add_task("train", total=total, completed=start, loss="-", lr="-", speed="")

    def __enter__(self) -> TrainProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def advance(self, loss: float, lr: float) -> None:
        self._progress.update(self._task, advance=1, loss=f"{loss:.4f}", lr=f"{lr:.2e}")

    def log(self, record: dict[str, Any]) -> None:
        speed = f"{record['tokens_per_s']:.0f} tok/s"
        if "eval_loss" in record:
            speed += f"  eval {record['eval_loss']:.4f}"
        self._progress.update(self._task, speed=speed)
        if self.enabled and not self._progress.console.is_terminal:
            line = "  ".join(f"{k} {v}" for k, v in record.items())
            self._progress.console.print(line, highlight=False, markup=False)
