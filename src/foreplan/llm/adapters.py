"""LoRA adapters shipped inside the package, each tuned for one embedded base model.

An adapter is a GGUF LoRA file (a few MB) that llama.cpp applies on top of the quantized
base at load time (``lora_path``), so ``embedded-0.5b-planner`` costs no extra download:
the base model's chunks plus a file in this package, checked by sha256 like the models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from foreplan.errors import ModelFileError


@dataclass(frozen=True)
class EmbeddedAdapter:
    name: str
    base: str
    """The embedded model it was trained on (registry name)."""
    filename: str
    """File under ``foreplan/adapters/``."""
    sha256: str
    description: str
    size: int = 0
    """Bytes of the adapter file."""


ADAPTERS: dict[str, EmbeddedAdapter] = {
    a.name: a
    for a in (
        EmbeddedAdapter(
            name="embedded-0.5b-planner",
            base="qwen2.5-coder-0.5b",
            filename="planner-0.5b.gguf",
            sha256="daced1937d987711fbe743e16f1ec846ebd90e73e274ef7b17822b5c5bb77abc",
            description="ReWOO planner LoRA, r=8 on all linear layers (configs/planner-0.5b.yaml)",
            size=8_821_216,
        ),
        EmbeddedAdapter(
            name="embedded-0.5b-planner-v2",
            base="qwen2.5-coder-0.5b",
            filename="planner-0.5b-v2.gguf",
            sha256="d7bf7eb3a03e827da17213ac33ec1e9173ef38e57c1b4ff243bec092f6448c6c",
            description="ReWOO planner LoRA v2: synthetic plans + TaskBench train graphs (configs/planner-0.5b-v2.yaml)",
            size=8_821_216,
        ),
    )
}


def adapter_path(adapter: EmbeddedAdapter, root: Path | None = None) -> Path:
    """The adapter file, checked against its sha256 once per process.

    Raises:
        ModelFileError: the file is missing or not the one that was shipped.
    """
    folder = root if root is not None else Path(str(files("foreplan").joinpath("adapters")))
    path = folder / adapter.filename
    if path in _verified:
        return path
    if not path.is_file():
        raise ModelFileError(f"The adapter file {path} is missing; reinstall foreplan.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != adapter.sha256:
        raise ModelFileError(f"The adapter file {path} is damaged (sha256 {digest[:12]}…, expected "
                             f"{adapter.sha256[:12]}…); reinstall foreplan.")
    _verified.add(path)
    return path


_verified: set[Path] = set()
