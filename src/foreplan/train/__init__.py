"""Fine-tuning: LoRA / QLoRA / full / freeze SFT with a loss on the response only.

Needs the ``train`` extra (torch, transformers, peft, accelerate); nothing here imports
them at module level, so ``foreplan train --help`` and flag errors work without it.
"""
