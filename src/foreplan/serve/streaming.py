"""``stream: true``: send each piece of text as the model generates it, as SSE chunks.

Generation blocks, so it runs in a worker thread; the backend hands each decoded piece
to ``GenerationOptions.on_text``, which passes it to the event loop through an asyncio
queue. The SSE generator turns the pieces into OpenAI chunks::

    route: queue place taken ─► worker thread: served.generate(options + on_text)
                                   │ on_text(piece) ─ call_soon_threadsafe ─┐
                                   │ Completion or exception at the end ─────┤
                                   └ releases the queue place                 ▼
    client ◄── role chunk, content deltas, tool-call deltas, finish, usage, [DONE] ◄── asyncio.Queue

Tool calls (``tool_choice`` auto, required or named) are parsed from the whole text at
the end, exactly as without streaming, and then sent as OpenAI tool-call deltas: the
first with ``index, id, type, function.name``, the rest with ``function.arguments`` in
pieces. In ``auto`` mode, text before a ``<tool_call>`` tag streams as content (the tag's
first characters are held back until they cannot be the tag, as for stop strings).

A client that disconnects cancels the generation: Starlette cancels the SSE generator,
whose ``finally`` sets a flag; the next ``on_text`` raises :class:`GenerationCancelled`,
the backend stops at that token and the worker gives the queue place back. No error is
logged for it, only one INFO line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.responses import StreamingResponse

from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.streaming import TextStream
from foreplan.serve.errors import describe
from foreplan.serve.models import ServedModel
from foreplan.serve.schemas import AssistantMessage, PromptTokensDetails, Usage
from foreplan.types import Completion

logger = logging.getLogger("foreplan.serve")
_TOOL_TAG = "<tool_call>"
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
        self._tag = TextStream((_TOOL_TAG,), self._out.append, hold_whitespace=True) if mode == "auto" else None

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


@dataclass
class _End:
    result: Completion | BaseException | None


def stream_generation(served: ServedModel, messages: list[Message], options: GenerationOptions,
                      chunks: ChatChunks | TextChunks) -> StreamingResponse:
    """Start generating in a worker thread and answer with its SSE stream.

    The caller has taken a place in ``served.queue``; the worker gives it back when the
    generation ends (finished, failed, or stopped because the client left).
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[str | _End] = asyncio.Queue()
    cancelled = threading.Event()

    def put(item: str | _End) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:  # the event loop is closed: the server is shutting down
            cancelled.set()

    def on_text(piece: str) -> None:
        if cancelled.is_set():
            raise GenerationCancelled
        put(piece)

    def generate() -> Completion:
        if cancelled.is_set():  # the client left while this request waited for the model
            raise GenerationCancelled
        return served.llm.generate(messages, dataclasses.replace(options, on_text=on_text))

    def work() -> None:
        result: Completion | BaseException | None = None
        try:
            result = served.queue.run(generate)
        except GenerationCancelled:
            logger.info("%s: the client disconnected; generation stopped", served.alias)
        except Exception as exc:  # reported to the client in the stream
            result = exc
        finally:
            served.queue.release()
        put(_End(result))

    threading.Thread(target=work, name=f"foreplan-stream-{served.alias}", daemon=True).start()

    async def events() -> AsyncIterator[str]:
        try:
            for chunk in chunks.start():
                yield sse(chunk)
            while True:
                item = await items.get()
                if isinstance(item, str):
                    for chunk in chunks.text(item):
                        yield sse(chunk)
                    continue
                if isinstance(item.result, Completion):
                    for chunk in chunks.end(item.result):
                        yield sse(chunk)
                elif item.result is not None:  # the status line is sent: report in the stream
                    yield sse(describe(item.result)[1])
                break
            yield sse("[DONE]")
        finally:
            cancelled.set()  # a client that left stops the generation at its next piece

    return StreamingResponse(events(), media_type="text/event-stream")
