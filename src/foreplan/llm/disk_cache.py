"""KV prefix states on disk, so a restarted process skips the static prompt too.

On by default, in the user cache dir's ``prefix/`` folder (``FOREPLAN_PREFIX_CACHE_DIR``
names another; ``FOREPLAN_PREFIX_CACHE=off`` turns it off), bounded by
``FOREPLAN_PREFIX_CACHE_MB`` (default 2048): a second ``foreplan run`` then does not pay the
planner's static prompt again. The RAM cache (``prefix_cache.py``) writes every state it saves here as
well and, on a miss, looks here before evaluating. States are kept per model identity —
the GGUF file (path, size, modification time), its LoRA adapter, the context size and the
llama-cpp-python version; a state from any other combination would not load — and named
by a hash of their tokens::

    $FOREPLAN_PREFIX_CACHE_DIR/<model key>/<token hash>.kv   "FPKV1" | n | n × int32 tokens | state bytes

Files are written aside and renamed (a crash leaves no half state); the least recently
used are deleted when the folder outgrows its bound; an unreadable file is a miss and a
failed write (a full disk) costs the cache, never the run — both are logged as warnings.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = b"FPKV1"
_HEADER = struct.Struct("<5sI")


def model_key(path: Path, n_ctx: int, lora: Path | None = None) -> str:
    """What a saved state depends on: the model file, its adapter, the context size and
    the llama.cpp build (its state layout changes between versions)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        build = version("llama_cpp_python")
    except PackageNotFoundError:
        build = "unknown"
    parts = [str(path.resolve()), str(n_ctx), build]
    for f in (path, lora):
        if f is not None:
            stat = f.stat()
            parts += [str(f.resolve()), str(stat.st_size), str(stat.st_mtime_ns)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def token_hash(tokens: tuple[int, ...]) -> str:
    return hashlib.sha256(np.asarray(tokens, dtype=np.int32).tobytes()).hexdigest()[:32]


class DiskStates:
    """The saved states of one model on disk: token prefixes found by scanning headers."""

    def __init__(self, folder: Path, capacity_bytes: int) -> None:
        self.folder = folder
        self.capacity_bytes = capacity_bytes
        self._lock = threading.Lock()
        self._index: dict[tuple[int, ...], Path] | None = None

    def _scan(self) -> dict[tuple[int, ...], Path]:
        if self._index is None:
            self._index = {}
            for file in self.folder.glob("*.kv") if self.folder.exists() else ():
                tokens = self._read_tokens(file)
                if tokens is not None:
                    self._index[tokens] = file
        return self._index

    @staticmethod
    def _read_tokens(file: Path) -> tuple[int, ...] | None:
        try:
            with file.open("rb") as f:
                magic, n = _HEADER.unpack(f.read(_HEADER.size))
                if magic != MAGIC:
                    raise ValueError("not a foreplan KV state")
                return tuple(int(t) for t in np.frombuffer(f.read(4 * n), dtype=np.int32))
        except (OSError, struct.error, ValueError) as exc:
            logger.warning("prefix cache: ignoring unreadable state %s (%s)", file, exc)
            return None

    def prefixes(self) -> list[tuple[int, ...]]:
        with self._lock:
            return list(self._scan())

    def load(self, tokens: tuple[int, ...]) -> bytes | None:
        """The state saved under exactly ``tokens``, or None when it is gone or damaged."""
        with self._lock:
            file = self._scan().get(tokens)
        if file is None:
            return None
        try:
            raw = file.read_bytes()
            os.utime(file)  # recently used: evicted last
        except OSError as exc:
            logger.warning("prefix cache: cannot read %s (%s); evaluating the prompt instead", file, exc)
            return None
        start = _HEADER.size + 4 * len(tokens)
        if raw[:5] != MAGIC or len(raw) <= start:
            logger.warning("prefix cache: %s is damaged; evaluating the prompt instead", file)
            return None
        return raw[start:]

    def save(self, tokens: tuple[int, ...], data: bytes) -> None:
        with self._lock:
            index = self._scan()
            if tokens in index:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            final = self.folder / f"{token_hash(tokens)}.kv"
            tmp = final.with_name(final.name + f".{os.getpid()}.part")
            try:
                with tmp.open("wb") as f:
                    f.write(_HEADER.pack(MAGIC, len(tokens)))
                    f.write(np.asarray(tokens, dtype=np.int32).tobytes())
                    f.write(data)
                tmp.replace(final)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                logger.warning("prefix cache: cannot write %s (%s); the run goes on without it", final, exc)
                return  # a full disk costs the cache, never the run
            index[tokens] = final
            self._evict(index)

    def _evict(self, index: dict[tuple[int, ...], Path]) -> None:
        files = sorted(((f.stat().st_mtime_ns, f) for f in index.values() if f.exists()), key=lambda x: x[0])
        total = sum(f.stat().st_size for _, f in files)
        for _, file in files:
            if total <= self.capacity_bytes:
                break
            total -= file.stat().st_size
            file.unlink(missing_ok=True)
            for key in [k for k, v in index.items() if v == file]:
                del index[key]


def cache_root() -> Path | None:
    """``$FOREPLAN_PREFIX_CACHE_DIR``, else the user cache dir's ``prefix`` folder; None
    when ``FOREPLAN_PREFIX_CACHE`` is off (``off``, ``0``, ``false``, ``no``)."""
    if os.environ.get("FOREPLAN_PREFIX_CACHE", "").strip().lower() in ("off", "0", "false", "no"):
        return None
    root = os.environ.get("FOREPLAN_PREFIX_CACHE_DIR", "").strip()
    if root:
        return Path(root).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("foreplan")) / "prefix"


def disk_states_for(path: Path, n_ctx: int, lora: Path | None = None) -> DiskStates | None:
    """The on-disk store for this model (see :func:`cache_root`), or None when it is off."""
    root = cache_root()
    if root is None:
        return None
    megabytes = os.environ.get("FOREPLAN_PREFIX_CACHE_MB", "2048")
    capacity = int(megabytes) * 2**20 if megabytes.isdigit() else 2048 * 2**20
    return DiskStates(root / model_key(path, n_ctx, lora), capacity)
