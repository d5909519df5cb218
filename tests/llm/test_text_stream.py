"""Streamed text: stop strings held back, pieces, SSE parsing, and the scripted LLM's stream."""

from __future__ import annotations

import pytest

from foreplan import ScriptedLLM
from foreplan.llm.base import GenerationOptions
from foreplan.llm.streaming import TextStream, iter_sse_data, split_pieces


def _feed(stream: TextStream, pieces: list[str]) -> bool:
    stopped = False
    for piece in pieces:
        stopped = stream.push(stream.text + piece)
        if stopped:
            break
    return stopped


def test_text_that_could_start_a_stop_string_is_held_back():
    sent: list[str] = []
    stream = TextStream(("\nObservation:",), sent.append)
    assert not _feed(stream, ["Paris", ".", "\nObs"])
    assert sent == ["Paris", "."]  # "\nObs" may be the stop string
    assert not _feed(stream, ["erve"])
    assert sent == ["Paris", ".", "\nObserve"]
    assert _feed(stream, ["\nObs", "ervation:", " more"])
    assert "".join(sent) == stream.finish() == "Paris.\nObserve"


def test_the_earliest_of_several_stop_strings_cuts():
    sent: list[str] = []
    stream = TextStream(("END", "5"), sent.append)
    assert _feed(stream, ["1, 2, 3, 4, 5, 6 END"])
    assert stream.finish() == "".join(sent) == "1, 2, 3, 4, "


def test_held_text_is_sent_when_generation_ends_without_a_stop():
    sent: list[str] = []
    stream = TextStream(("</answer>",), sent.append)
    _feed(stream, ["yes </ans"])
    assert sent == ["yes "]
    assert stream.finish() == "yes </ans" and sent == ["yes ", "</ans"]


def test_hold_whitespace_keeps_a_trailing_newline_until_more_comes():
    sent: list[str] = []
    stream = TextStream((), sent.append, hold_whitespace=True)
    _feed(stream, ["Let me check.\n"])
    assert sent == ["Let me check."]
    _feed(stream, ["Done"])
    assert sent == ["Let me check.", "\nDone"]


def test_split_pieces_join_up():
    assert split_pieces("Hello there,  you\n") == ["Hello", " there,", "  you", "\n"]
    assert split_pieces(" x") == [" x"] and split_pieces("") == []


def test_sse_data_stops_at_done_and_skips_comments():
    lines = [": ping", "", 'data: {"a": 1}', "event: x", 'data:{"b": 2}', "data: [DONE]", 'data: {"c": 3}']
    assert list(iter_sse_data(lines)) == [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError, match="not a JSON object"):
        list(iter_sse_data(["data: [1]"]))


def test_scripted_llm_streams_its_reply_in_pieces():
    pieces: list[str] = []
    llm = ScriptedLLM(["The answer is 42."])
    out = llm.generate([{"role": "user", "content": "q"}], GenerationOptions(on_text=pieces.append))
    assert pieces == ["The", " answer", " is", " 42."] and "".join(pieces) == out.text
    assert out.usage.completion_tokens == 4


def test_an_exception_from_on_text_stops_the_scripted_stream():
    class Gone(Exception):
        pass

    seen: list[str] = []

    def on_text(piece: str) -> None:
        seen.append(piece)
        raise Gone

    with pytest.raises(Gone):
        ScriptedLLM(["a b c"]).generate([], GenerationOptions(on_text=on_text))
    assert seen == ["a"]
