"""Streamed text that never shows a stop string, not even its first characters.

A backend that streams (``GenerationOptions.on_text``) learns only after a few more
tokens whether ``"Obs"`` was the start of the stop string ``"Observation:"`` or just
text. So the tail that could still grow into a stop string is held back until it
cannot, and is dropped if it does::

    decoded so far     "Paris.\\nObs"       stop ("\\nObservation:",)
    sent               "Paris."              "\\nObs" held: a prefix of the stop string
    decoded so far     "Paris.\\nObserve"    no longer a prefix: "\\nObserve" is sent
    decoded so far     "...\\nObservation:"  stop found: cut there, held text dropped

Every backend (llama.cpp's decode loop, the OpenAI HTTP stream, the scripted LLM) and
the server's ``<tool_call>`` detection use the same :class:`TextStream`, so a streamed
reply joins up to exactly the text the non-streamed reply returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class TextStream:
    """Cuts text at the first stop string and passes on the part that is safe to show.

    Feed it the *whole* text decoded so far (:meth:`push`); it calls ``on_text`` with
    each new safe piece. :meth:`finish` sends what was held back once generation ends
    without a stop string.
    """

    def __init__(self, stop: Iterable[str] = (), on_text: Callable[[str], None] | None = None,
                 hold_whitespace: bool = False) -> None:
        self.stop = tuple(s for s in stop if s)
        self.on_text = on_text
        self.hold_whitespace = hold_whitespace
        """Also hold back trailing whitespace (for callers that strip text before a stop)."""
        self.text = ""
        """The text so far, cut at the stop string once one is found."""
        self.sent = 0
        """How many characters of :attr:`text` were passed on."""
        self.stopped = False

    def push(self, text: str) -> bool:
        """Take the whole text decoded so far; True once a stop string was found."""
        if self.stopped:
            return True
        hits = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        if hits:
            self.text, self.stopped = text[:min(hits)], True
            self._send(len(self.text))
            return True
        self.text = text
        self._send(len(text) - self._held(text))
        return False

    def finish(self) -> str:
        """Send the held-back tail (it was no stop string after all); returns the text."""
        self._send(len(self.text), final=True)
        return self.text

    def _held(self, text: str) -> int:
        """Length of the longest tail of ``text`` that begins some stop string."""
        held = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(text)), held, -1):
                if text.endswith(s[:n]):
                    held = n
                    break
        return held

    def _send(self, end: int, final: bool = False) -> None:
        if self.hold_whitespace and not final:
            end = len(self.text[:end].rstrip())
        # Text that was sent never changes: stop strings are found before they are sent.
        if end > self.sent:
            piece, self.sent = self.text[self.sent:end], end
            if self.on_text is not None:
                self.on_text(piece)


def split_pieces(text: str) -> list[str]:
    """``"Hello there, you"`` → ``["Hello", " there,", " you"]``: word-sized pieces
    that join up to ``text`` (how the scripted LLM streams)."""
    pieces: list[str] = []
    start = 0
    for i in range(1, len(text)):
        if text[i].isspace() and not text[i - 1].isspace():
            pieces.append(text[start:i])
            start = i
    if text:
        pieces.append(text[start:])
    return pieces


def iter_sse_data(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON payloads of server-sent ``data:`` lines, up to ``data: [DONE]``.

    Raises:
        ValueError: a payload that is not a JSON object.
    """
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        value = json.loads(payload)
        if not isinstance(value, dict):
            raise ValueError(f"an SSE payload is not a JSON object: {payload[:200]!r}")
        yield value
