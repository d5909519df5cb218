"""Pay for the static part of a prompt once: a KV-state cache keyed by token prefix.

Every planner prompt starts with the same ~500 tokens (instructions, tool list, worked
example) and ends with the task; solver and caller prompts are built the same way. The
first call evaluates the whole prompt and the state of the model's KV cache is saved;
a later call whose prompt shares a prefix with a saved one loads that state and
evaluates only the tokens after the shared part::

    planner call 1:  [ static prefix ············ | task A ]   eval 560 tokens, save
    solver call:     [ other prompt ··· ]                       eval, save
    planner call 2:  [ static prefix ············ | task B ]   load, eval 20 tokens

llama-cpp-python only reuses the prefix of the *last* prompt it saw (and its own
``save_state`` copies a 300 MB logits buffer); this keeps several states, LRU, bounded
in bytes, per loaded model. A state records the KV cache, its tokens and the logits of
its last token (llama.cpp's state data leaves them out), so a prompt seen before in
whole samples at once, computing nothing (:meth:`PrefixCache.restore_exact`). With a
``disk`` store (``disk_cache.py``, opt-in) states also survive the process (without
their logits: a restarted process evaluates at least the prompt's last chunk).
"""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_CAPACITY = 512 * 1024 * 1024
#: Prefixes shorter than this are cheaper to evaluate than to load.
MIN_PREFIX = 32


@dataclass(frozen=True)
class _State:
    tokens: tuple[int, ...]
    data: bytes
    logits: np.ndarray | None = None
    """The logits after the last token, when the state was saved right after it."""

    @property
    def nbytes(self) -> int:
        return len(self.data) + (self.logits.nbytes if self.logits is not None else 0)


def common_prefix(a: Any, b: list[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n]) != np.asarray(b[:n]))[0]
    return int(diff[0]) if len(diff) else n


class PrefixCache:
    """Saved KV states of one loaded model, found by longest common token prefix."""

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY, disk: Any = None) -> None:
        self.capacity_bytes = capacity_bytes
        self.disk = disk
        """A :class:`~foreplan.llm.disk_cache.DiskStates` that states are also written to."""
        self._states: OrderedDict[tuple[int, ...], _State] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return sum(s.nbytes for s in self._states.values())

    def restore_exact(self, llama: Any, tokens: list[int]) -> bool:
        """Load the state saved for exactly ``tokens``, logits included, so sampling
        starts at once; False (nothing changed) when there is none."""
        with self._lock:
            state = self._states.get(tuple(tokens))
            if state is None or state.logits is None:
                return False
            self._states.move_to_end(state.tokens)
        if not self._load(llama, state):
            return False
        live = last_logits(llama)
        if live is None:
            llama.reset()
            return False
        live[:] = state.logits
        llama._requires_eval = False  # the logits are the prompt's: llama.generate samples at once
        self.hits += 1
        return True

    def restore(self, llama: Any, tokens: list[int]) -> int:
        """Load the saved state that shares the longest prefix with ``tokens``, if it
        beats what the model's context already holds. Returns the reusable prefix length
        (at least one token is always left to evaluate, so fresh logits exist)."""
        usable = tokens[:-1]
        live = common_prefix(llama.input_ids[: llama.n_tokens], usable)
        with self._lock:
            best, best_len = None, live
            for state in self._states.values():
                n = common_prefix(state.tokens, usable)
                if n > best_len:
                    best, best_len = state, n
            if best is None:
                best = self._from_disk(usable, best_len)
            if best is None:
                self.misses += live < MIN_PREFIX
                self.hits += live >= MIN_PREFIX
                return live
            best_len = common_prefix(best.tokens, usable)
            if best.tokens in self._states:
                self._states.move_to_end(best.tokens)
            self.hits += 1
        if not self._load(llama, best):
            return 0
        llama._requires_eval = True
        return best_len

    @staticmethod
    def _load(llama: Any, state: _State) -> bool:
        import llama_cpp

        buffer = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(state.data)) != len(state.data):
            llama.reset()  # a state that does not load is a cache miss, not an error
            return False
        llama.input_ids[: len(state.tokens)] = state.tokens
        llama.n_tokens = len(state.tokens)
        return True

    def _from_disk(self, usable: list[int], beat: int) -> _State | None:
        """The disk state sharing the longest prefix (longer than ``beat``), now also in RAM."""
        if self.disk is None:
            return None
        best, best_len = None, max(beat, MIN_PREFIX - 1)
        for tokens in self.disk.prefixes():
            n = common_prefix(tokens, usable)
            if n > best_len:
                best, best_len = tokens, n
        data = self.disk.load(best) if best is not None else None
        if data is None:
            return None
        state = _State(best, data)
        self._states[best] = state
        self._trim()
        return state

    def _trim(self) -> None:
        while self._states and self.size_bytes > self.capacity_bytes:
            self._states.popitem(last=False)

    def save(self, llama: Any) -> None:
        """Save the model's current KV state under the tokens it holds, with the logits
        after the last of them (call it right after evaluating them)."""
        import llama_cpp

        key = tuple(int(t) for t in llama.input_ids[: llama.n_tokens])
        if len(key) < MIN_PREFIX:
            return
        with self._lock:
            if key in self._states:
                self._states.move_to_end(key)
                return
        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size)
        logits = last_logits(llama)
        state = _State(key, bytes(memoryview(buffer)[:written]), None if logits is None else logits.copy())
        with self._lock:
            self._states[key] = state
            self._trim()
        if self.disk is not None:
            self.disk.save(key, state.data)


def last_logits(llama: Any) -> np.ndarray | None:
    """llama.cpp's logits buffer for the last evaluated position (a view, writable), or
    None when the context holds no output."""
    pointer = llama._ctx.get_logits_ith(-1)
    if not pointer:
        return None
    return np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),))
