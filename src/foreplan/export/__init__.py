"""Export a trained LoRA adapter for llama.cpp, working on GGUF files only.

    PEFT adapter folder ──► lora.py  ──► adapter.gguf   (llama.cpp ``lora_path``)
          │
          └─────────────► merge.py ──► merged f32 parts ──► llama_model_quantize ──► model.gguf
                                                                     │
    verify.py: greedy tokens of the export against its source ◄──────┘

No HF → GGUF converter is involved: tensor names come from the base GGUF itself
(``base.py``), the adapter is read from safetensors (``adapter.py``), and everything is
written with the PyPI ``gguf`` package. The modules import numpy, gguf and llama_cpp
only; torch, transformers and peft are needed just to verify against a PEFT model.
"""

from __future__ import annotations

from foreplan.export.base import BaseGGUF, ExportError, open_base
from foreplan.export.adapter import LoraAdapter, LoraPair, read_adapter

__all__ = ["BaseGGUF", "ExportError", "LoraAdapter", "LoraPair", "open_base", "read_adapter"]
