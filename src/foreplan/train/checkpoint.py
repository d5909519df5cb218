"""Checkpoints that survive ``kill -9``: written aside, renamed into place.

A checkpoint holds the trainable weights (a standard PEFT adapter folder for LoRA),
the optimizer, the scheduler, every RNG and the step number; the batch order is a pure
function of the seed, so that is enough to continue the same loss curve. A folder is
only ever complete: it is written as ``checkpoint-N.partial`` and renamed when done,
so a crash leaves the last good checkpoint untouched.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import TrainConfigError

STATE = "trainer_state.pt"
_NAME = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class Resumed:
    step: int
    history: list[dict[str, Any]]


def save_weights(model: Any, folder: Path) -> None:
    """The adapter (PEFT) or the whole model, loadable with transformers/peft."""
    if hasattr(model, "peft_config"):
        model.save_pretrained(folder)
        return
    # A model loaded from GGUF refuses to save until its GGUF quantizer is forgotten; its
    # weights are plain dequantized tensors by now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)


def rng_state() -> dict[str, Any]:
    """Every generator dropout and shuffling draw from; on CUDA dropout draws from the GPU's
    own, so a resumed run on a GPU continues the same loss curve only with it saved too."""
    import numpy as np
    import torch

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def save_checkpoint(output_dir: Path, step: int, model: Any, optimizer: Any, scheduler: Any,
                    history: list[dict[str, Any]]) -> Path:
    import torch

    final = output_dir / f"checkpoint-{step}"
    partial = output_dir / f"checkpoint-{step}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_weights(model, partial)
    torch.save({
        "step": step,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_state(),
        "history": history,
    }, partial / STATE)
    (partial / "step.json").write_text(json.dumps({"step": step}))
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder (``.partial`` ones are leftovers of a crash)."""
    found = [(int(m.group(1)), p) for p in output_dir.glob("checkpoint-*")
             if (m := _NAME.match(p.name)) and (p / STATE).exists()]
    return max(found)[1] if found else None


def resolve_resume(value: str | None, output_dir: Path) -> Path | None:
    """``--resume_from_checkpoint``: a folder, or ``true``/``last`` for the newest one."""
    if value is None or value.lower() in ("false", "no", "none", ""):
        return None
    if value.lower() in ("true", "yes", "last", "latest"):
        found = latest_checkpoint(output_dir)
        if found is None:
            raise TrainConfigError(f"--resume_from_checkpoint {value}: no complete checkpoint in {output_dir}.")
        return found
    path = Path(value)
    if not (path / STATE).exists():
        raise TrainConfigError(f"--resume_from_checkpoint {value}: not a complete foreplan checkpoint "
                               f"(no {STATE}); pick one of {output_dir}/checkpoint-N or pass 'true'.")
    return path


def load_weights(model: Any, folder: Path) -> None:
    from safetensors.torch import load_file

    if hasattr(model, "peft_config"):
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(folder / "adapter_model.safetensors"))
        return
    state = {}
    for file in folder.glob("*.safetensors"):
        state.update(load_file(file))
    model.load_state_dict(state, strict=False)


def restore(folder: Path, model: Any, optimizer: Any, scheduler: Any) -> Resumed:
    import numpy as np
    import torch

    load_weights(model, folder)
    state = torch.load(folder / STATE, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    random.setstate(state["rng"]["python"])
    np.random.set_state(state["rng"]["numpy"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"].get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return Resumed(state["step"], state["history"])
