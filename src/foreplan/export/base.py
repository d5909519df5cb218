"""The base GGUF an adapter belongs to: where it is, what it holds, what its tensors are called.

Tensor names are never guessed. A PEFT module name (``model.layers.3.self_attn.q_proj``)
goes through the ``gguf`` package's own name map for the base's architecture
(``blk.3.attn_q.weight``), and the result must be a tensor of the base file, with the
shape the adapter expects. This is the one place that knows how HF layouts differ from
GGUF layouts (``_ROW_PERMUTED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreplan.errors import ExportError


#: Architectures whose HF → GGUF conversion leaves q/k/v/o/MLP weights as they are, so
#: that a LoRA delta (B @ A) computed in HF layout applies unchanged in GGUF layout.
_SAME_LAYOUT = {"qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3"}

#: llama.cpp's convert_hf_to_gguf.py reorders the rows of q_proj and k_proj for these
#: (``LlamaModel.permute``: interleaved rotary halves), so the rows of B must follow.
_ROW_PERMUTED = {"llama": {"attn_q": "head_count", "attn_k": "head_count_kv"}}


@dataclass
class BaseGGUF:
    """A base model GGUF opened with ``gguf.GGUFReader`` (memory-mapped, nothing loaded)."""

    path: Path
    reader: Any
    arch: str
    block_count: int
    tensors: dict[str, Any] = field(default_factory=dict)
    _name_map: Any = None

    def field(self, key: str) -> Any:
        """The value of a metadata key, or None."""
        f = self.reader.fields.get(key)
        return None if f is None else f.contents()

    def gguf_name(self, module: str) -> str:
        """The GGUF tensor name for a PEFT target module, checked against the file.

        Raises:
            ExportError: the module has no GGUF name for this architecture, or the base
                file has no tensor of that name.
        """
        import gguf

        if self._name_map is None:
            arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == self.arch), None)
            if arch is None:
                raise ExportError(f"The gguf package does not know the architecture {self.arch!r} of {self.path}; "
                                  "upgrade it (pip install -U gguf) or export from a supported base.")
            self._name_map = gguf.get_tensor_name_map(arch, self.block_count)
        name = self._name_map.get_name(module + ".weight", try_suffixes=(".weight",))
        if name is None:
            raise ExportError(f"The adapter targets {module!r}, which has no GGUF tensor name for a "
                              f"{self.arch} model. Was it trained on another base? Export with the base "
                              "it was trained on, or retrain with target modules of the attention/MLP layers.")
        if name not in self.tensors:
            raise ExportError(f"The adapter targets {module!r} ({name}), but {self.path.name} has no tensor "
                              f"{name!r}. Export with the base model the adapter was trained on.")
        return name

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) = (out_features, in_features) of a 2-D tensor, as numpy/torch see it."""
        t = self.tensors[name]
        if len(t.shape) != 2:
            raise ExportError(f"{name} in {self.path.name} is not a matrix (shape {list(t.shape)}); "
                              "LoRA applies to linear layers only.")
        cols, rows = (int(x) for x in t.shape)  # GGUF lists dimensions fastest-first
        return rows, cols

    def row_permutation(self, name: str) -> tuple[int, int] | None:
        """(head count, rows) when the HF → GGUF conversion reorders this tensor's rows."""
        kind = name.split(".")[2] if name.startswith("blk.") else ""
        key = _ROW_PERMUTED.get(self.arch, {}).get(kind)
        if key is None:
            return None
        heads = self.field(f"{self.arch}.attention.{key}") or self.field(f"{self.arch}.attention.head_count")
        return int(heads), self.shape(name)[0]


def permute_rows(b: Any, heads: int) -> Any:
    """Reorder the rows of LoRA B the way convert_hf_to_gguf.py reorders q/k weights.

    Rows of ``B @ A`` are rows of B, so permuting B alone permutes the delta.
    """
    rows = b.shape[0]
    return b.reshape(heads, 2, rows // heads // 2, *b.shape[1:]).swapaxes(1, 2).reshape(b.shape)


def resolve_base(spec: str) -> Path:
    """A ``.gguf`` path, or an embedded model name (assembled if need be).

    Raises:
        UnknownModelError: neither a file nor an embedded model name.
        ModelFileError: an embedded model's chunk packages are missing.
    """
    from foreplan.llm.registry import MODELS, get_model, pull

    path = Path(spec).expanduser()
    if spec in MODELS and not path.exists():
        return pull(get_model(spec))
    if path.exists() or spec.endswith(".gguf"):
        if not path.is_file():
            raise ExportError(f"Base model file {path} does not exist. Give a .gguf file or an embedded "
                              f"model name ({', '.join(MODELS)}).")
        return path
    get_model(spec)  # not a file either: raises UnknownModelError, listing the names
    return path


def open_base(spec: str | Path) -> BaseGGUF:
    """Open a base model GGUF for reading tensor names, shapes and data.

    Raises:
        ExportError: the file is not a GGUF model (or is itself an adapter).
    """
    import gguf

    path = resolve_base(str(spec))
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ExportError(f"{path} is not a GGUF file (it starts with {magic!r}). The base must be the "
                          ".gguf model the adapter was trained on, or an embedded model name.")
    try:
        reader = gguf.GGUFReader(path)
    except (ValueError, OSError) as exc:
        raise ExportError(f"{path} cannot be read as GGUF ({exc}); it may be partial or corrupt.") from exc
    arch_field = reader.fields.get("general.architecture")
    if arch_field is None:
        raise ExportError(f"{path} has no general.architecture; it is not a llama.cpp model file.")
    arch = arch_field.contents()
    kind = reader.fields.get("general.type")
    if kind is not None and kind.contents() == "adapter":
        raise ExportError(f"{path} is a LoRA adapter, not a base model. Give the model it adapts as --base.")
    count = reader.fields.get(f"{arch}.block_count")
    base = BaseGGUF(path=path, reader=reader, arch=arch, block_count=int(count.contents()) if count else 0,
                    tensors={t.name: t for t in reader.tensors})
    if arch not in _SAME_LAYOUT and arch not in _ROW_PERMUTED:
        raise ExportError(f"Exporting adapters for {arch!r} models is not supported: its HF → GGUF conversion "
                          "may reorder weights in ways foreplan does not reproduce. Supported: "
                          f"{', '.join(sorted(_SAME_LAYOUT | set(_ROW_PERMUTED)))}.")
    return base
