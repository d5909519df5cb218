"""Ask llama.cpp's own grammar engine whether a GBNF grammar compiles and what it admits.

llama-cpp-python compiles a grammar only when sampling starts, and a grammar that does
not parse gives a NULL sampler there (a crash, not an error). So foreplan compiles every
grammar once against the model's vocabulary first. The same machinery, fed one token
of a known text at a time, tells whether the grammar accepts that text: the tests use it
to check that the plan grammar admits every valid plan and nothing else.
"""

from __future__ import annotations

import ctypes
from typing import Any

from foreplan.errors import LLMError


def _lib() -> Any:
    import llama_cpp

    return llama_cpp


def grammar_sampler(vocab: Any, grammar: str) -> Any:
    """A llama.cpp grammar sampler for ``grammar``; free it with ``llama_sampler_free``.

    Raises:
        LLMError: llama.cpp could not parse the grammar.
    """
    lib = _lib()
    sampler = lib.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        raise LLMError("llama.cpp could not parse the GBNF grammar (see its log for the rule)")
    return sampler


def check_grammar(vocab: Any, grammar: str) -> None:
    """Raise :class:`LLMError` if ``grammar`` does not compile."""
    _lib().llama_sampler_free(grammar_sampler(vocab, grammar))


def _allowed(lib: Any, sampler: Any, token: int) -> bool:
    data = (lib.llama_token_data * 1)(lib.llama_token_data(token, 0.0, 0.0))
    candidates = lib.llama_token_data_array(data=ctypes.cast(data, lib.llama_token_data_p), size=1, selected=-1, sorted=False)
    lib.llama_sampler_apply(sampler, ctypes.byref(candidates))
    return candidates.data[0].logit != float("-inf")


def grammar_accepts(llama: Any, grammar: str, text: str, complete: bool = True) -> bool:
    """Whether ``grammar`` admits ``text`` as the model would write it.

    Args:
        llama: a ``llama_cpp.Llama`` (``vocab_only=True`` is enough).
        grammar: GBNF source.
        text: the candidate output.
        complete: also require that the grammar may end after ``text`` (EOS allowed).
    """
    lib = _lib()
    sampler = grammar_sampler(llama._model.vocab, grammar)
    try:
        for token in llama.tokenize(text.encode("utf-8"), add_bos=False, special=False):
            if not _allowed(lib, sampler, token):
                return False
            lib.llama_sampler_accept(sampler, token)
        return _allowed(lib, sampler, llama.token_eos()) if complete else True
    finally:
        lib.llama_sampler_free(sampler)
