"""``--plot_loss``: the loss curves as PNG files, named as LLaMA-Factory names them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_history(history: list[dict[str, Any]], out: Path) -> list[Path]:
    """``training_loss.png`` always; ``training_eval_loss.png`` when evaluation ran."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for key, name in (("loss", "training_loss.png"), ("eval_loss", "training_eval_loss.png")):
        points = [(r["step"], r[key]) for r in history if key in r]
        if not points:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, marker="o" if len(points) < 30 else None, label=key)
        ax.set_xlabel("step")
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title(f"{key.replace('_', ' ')} of {out.name}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out / name
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
