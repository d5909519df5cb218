"""The Accelerator for a run: one process, DDP (``accelerate launch``), or DeepSpeed.

DeepSpeed configs written for LLaMA-Factory / the HF Trainer leave batch sizes as
``"auto"``; the Trainer fills them in from its arguments, and so does this module, since
foreplan's loop has no DataLoader for accelerate to read them from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foreplan.errors import TrainConfigError
from foreplan.train.args import TrainArgs


def deepspeed_config(args: TrainArgs, world: int) -> dict[str, Any]:
    """The ``--deepspeed`` JSON with its ``"auto"`` batch settings filled in.

    Raises:
        TrainConfigError: the file is missing or not JSON.
    """
    path = Path(args.deepspeed or "")
    try:
        config = json.loads(path.read_text())
    except OSError as exc:
        raise TrainConfigError(f"--deepspeed {path}: cannot read it ({exc.strerror}).") from exc
    except json.JSONDecodeError as exc:
        raise TrainConfigError(f"--deepspeed {path}: not JSON ({exc.msg} at line {exc.lineno}).") from exc
    filled = {
        "train_micro_batch_size_per_gpu": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "train_batch_size": args.per_device_train_batch_size * args.gradient_accumulation_steps * world,
        "gradient_clipping": args.max_grad_norm,
    }
    for key, value in filled.items():
        if config.get(key, "auto") == "auto":
            config[key] = value
    for section in ("bf16", "fp16"):
        if isinstance(config.get(section), dict) and config[section].get("enabled") == "auto":
            config[section]["enabled"] = section == "bf16"
    return config


def make_accelerator(args: TrainArgs, cuda: bool) -> Any:
    """DeepSpeed when asked for on GPUs; otherwise plain (DDP under ``accelerate launch``)."""
    from accelerate import Accelerator

    if args.deepspeed and cuda:
        import os

        from accelerate.utils import DeepSpeedPlugin

        world = int(os.environ.get("WORLD_SIZE", "1"))
        plugin = DeepSpeedPlugin(hf_ds_config=deepspeed_config(args, world))
        return Accelerator(deepspeed_plugin=plugin)
    return Accelerator(cpu=not cuda)
