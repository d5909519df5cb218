"""``stream: true``: send each piece of text as the model generates it, as SSE chunks.

Generation blocks, so it runs in a worker thread (:class:`~foreplan.bridge.ThreadBridge`);
the backend hands each decoded piece to ``GenerationOptions.on_text``, which emits it to
the event loop. The SSE generator turns the pieces into OpenAI chunks::

    route: queue.admit() ─► worker thread: served.generate(options + on_text)
     (full: 429)               │ on_text(piece) ── emit ──────────────────┐
                               │ Completion, or the exception, at the end ┤
                               └ gives the queue place back                ▼
    client ◄── role chunk, content deltas, tool-call deltas, finish, usage, [DONE] ◄── async for

Tool calls (``tool_choice`` auto, required or named) are parsed from the whole text at
the end, exactly as without streaming, and then sent as OpenAI tool-call deltas: the
first with ``index, id, type, function.name``, the rest with ``function.arguments`` in
pieces. In ``auto`` mode, text before a ``<tool_call>`` tag streams as content (the tag's
first characters are held back until they cannot be the tag, as for stop strings).

A client that disconnects cancels the generation: Starlette cancels the SSE generator,
whose ``finally`` closes the bridge; the next ``on_text`` raises :class:`GenerationCancelled`,
the backend stops at that token and the worker gives the queue place back. No error is
logged for it, only one INFO line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi.responses import StreamingResponse

from foreplan.bridge import ThreadBridge
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.streaming import TextStream
from foreplan.serve.errors import describe
from foreplan.serve.models import ServedModel
from foreplan.serve.schemas import AssistantMessage, PromptTokensDetails, Usage
from foreplan.types import Completion

logger = logging.getLogger("foreplan.serve")
_CALL_STARTS = ("<tool_call>", "{", "```")
#: Tool-call arguments are sent in pieces of at most this many characters.
ARGUMENT_PIECE = 16


class GenerationCancelled(Exception):
    """Raised from ``on_text`` once the client has gone; it never leaves the worker."""


def usage_of(c: Completion) -> Usage:
    return Usage(prompt_tokens=c.usage.prompt_tokens, completion_tokens=c.usage.completion_tokens,
                 total_tokens=c.usage.prompt_tokens + c.usage.completion_tokens,
                 prompt_tokens_details=PromptTokensDetails(cached_tokens=c.usage.cached_tokens))


def sse(data: Mapping[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def sse_responses(events: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route whose ``stream: true`` answers as server-sent
    events, so clients and schema checkers know the second content type."""
    return {200: {"content": {"text/event-stream": {"schema": {"description": f"each event's data: {events}, "
                                                                              "then [DONE]"}}}}}


class ChatChunks:
    """``chat.completion.chunk`` objects for one streamed chat completion.

    Args:
        head: ``id``, ``object``, ``created``, ``model`` of every chunk.
        mode: the tool mode (``None``, ``"none"``, ``"auto"``, ``"required"``, ``"function:NAME"``).
        reply: the non-streamed reply's message for the whole text, so both agree.
        include_usage: add the usage chunk (``stream_options.include_usage``).
    """

    def __init__(self, head: dict[str, Any], mode: str | None, reply: Callable[[Completion], AssistantMessage],
                 include_usage: bool) -> None:
        self.head, self.mode, self.reply, self.include_usage = head, mode, reply, include_usage
        self.sent = ""
        """Content already sent."""
        self._out: list[str] = []
        # auto: content streams until what may start a call (a tag, or a bare or fenced
        # JSON call); the rest comes at the end, as calls or as the content it was.
        self._tag = TextStream(_CALL_STARTS, self._out.append, hold_whitespace=True) if mode == "auto" else None

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self.head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    def start(self) -> list[dict[str, Any]]:
        return [self._chunk({"role": "assistant", "content": ""})]

    def text(self, piece: str) -> list[dict[str, Any]]:
        if self.mode in (None, "none"):
            pieces = [piece]
        elif self._tag is not None:  # auto: content until a tool call starts
            self._tag.push(self._tag.text + piece)  # True, and nothing sent, once the tag is seen
            pieces, self._out[:] = list(self._out), []
        else:  # a forced call: the text is the call's JSON, parsed at the end
            pieces = []
        self.sent += "".join(pieces)
        return [self._chunk({"content": p}) for p in pieces if p]

    def end(self, c: Completion) -> list[dict[str, Any]]:
        message = self.reply(c)
        out = []
        content = message.content or ""
        if content.startswith(self.sent) and len(content) > len(self.sent):
            out.append(self._chunk({"content": content[len(self.sent):]}))
        for i, call in enumerate(message.tool_calls or ()):
            args = call.function.arguments
            out.append(self._chunk({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                                                    "function": {"name": call.function.name, "arguments": ""}}]}))
            out += [self._chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]})
                    for p in re.findall(f".{{1,{ARGUMENT_PIECE}}}", args, re.DOTALL)]
        out.append(self._chunk({}, "tool_calls" if message.tool_calls else c.finish_reason))
        if self.include_usage:
            out.append(self.head | {"choices": [], "usage": usage_of(c).model_dump()})
        return out


class TextChunks:
    """``text_completion`` chunks for one streamed ``/v1/completions`` request."""

    def __init__(self, head: dict[str, Any], include_usage: bool) -> None:
        self.head, self.include_usage = head, include_usage
        self.sent = ""

    def _chunk(self, text: str, finish_reason: str | None = None) -> dict[str, Any]:
        return self.head | {"choices": [{"index": 0, "text": text, "finish_reason": finish_reason}]}

    def start(self) -> list[dict[str, Any]]:
        return []

    def text(self, piece: str) -> list[dict[str, Any]]:
        self.sent += piece
        return [self._chunk(piece)]

    def end(self, c: Completion) -> list[dict[str, Any]]:
        rest = c.text[len(self.sent):] if c.text.startswith(self.sent) else ""
        out = [self._chunk(rest)] if rest else []
        out.append(self._chunk("", c.finish_reason))
        if self.include_usage:
            out.append(self.head | {"choices": [], "usage": usage_of(c).model_dump()})
        return out


def stream_generation(served: ServedModel, messages: list[Message], options: GenerationOptions,
                      chunks: ChatChunks | TextChunks) -> StreamingResponse:
    """Take a place in ``served.queue``, start generating in a worker thread and answer
    with its SSE stream.

    The worker gives the place back when the generation ends (finished, failed, or
    stopped because the client left).

    Raises:
        QueueFullError: every place is taken (429, before the stream starts).
    """
    pieces: ThreadBridge[str | Completion] = ThreadBridge(f"foreplan-stream-{served.alias}")

    def work(emit: Callable[[str | Completion], None]) -> None:
        def on_text(piece: str) -> None:
            if pieces.closed:
                raise GenerationCancelled
            emit(piece)

        def generate() -> Completion:
            if pieces.closed:  # the client left while this request waited for the model
                raise GenerationCancelled
            return served.llm.generate(messages, dataclasses.replace(options, on_text=on_text))

        try:
            emit(served.queue.run(generate))
        except GenerationCancelled:
            logger.info("%s: the client disconnected; generation stopped", served.alias)

    pieces.start(work, holding=served.queue.admit())

    async def events() -> AsyncIterator[str]:
        try:
            for chunk in chunks.start():
                yield sse(chunk)
            try:
                async for item in pieces:
                    for chunk in chunks.text(item) if isinstance(item, str) else chunks.end(item):
                        yield sse(chunk)
            except Exception as exc:  # the status line is sent: report in the stream
                yield sse(describe(exc)[1])
            yield sse("[DONE]")
        finally:
            pieces.close()  # a client that left stops the generation at its next piece

    return StreamingResponse(events(), media_type="text/event-stream")
