"""The loss mask: learn the assistant's tokens only.

A conversation is rendered with the chat template turn by turn; the text each render
adds is one segment, and a segment is trainable when it is an assistant turn (its text,
its end-of-turn token). ``mask_labels`` is the one pure function that turns segments into
``input_ids`` and ``labels`` (-100 where no loss is taken); everything else only prepares
its input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from foreplan.errors import DatasetError
from foreplan.llm.chat_template import ChatTemplate
from foreplan.train.formats import Conversation

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: int
    """Tokens cut off at ``cutoff_len`` (0 when the example fit)."""


def mask_labels(segments: Sequence[tuple[Sequence[int], bool]], train_on_prompt: bool = False,
                cutoff_len: int | None = None) -> Encoded:
    """Concatenate token segments; labels copy the ids of trainable segments (all segments
    with ``train_on_prompt``) and are -100 elsewhere; both are cut at ``cutoff_len``."""
    input_ids: list[int] = []
    labels: list[int] = []
    for ids, trainable in segments:
        input_ids += ids
        labels += list(ids) if (trainable or train_on_prompt) else [IGNORE_INDEX] * len(ids)
    truncated = 0
    if cutoff_len is not None and len(input_ids) > cutoff_len:
        truncated = len(input_ids) - cutoff_len
        input_ids, labels = input_ids[:cutoff_len], labels[:cutoff_len]
    return Encoded(input_ids, labels, truncated)


def segments(conversation: Conversation, template: ChatTemplate) -> list[tuple[str, bool]]:
    """The rendered text of a conversation in pieces: (text, is_assistant_turn).

    Raises:
        DatasetError: the template does not render the conversation as a growing prefix
            (it rewrites earlier turns), so no token boundary between turns exists.
    """
    messages = conversation.messages
    tools = conversation.tools
    pieces: list[tuple[str, bool]] = []
    done = ""
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = template.render(messages[:i], add_generation_prompt=True, tools=tools)
        full = template.render(messages[: i + 1], add_generation_prompt=False, tools=tools)
        if not prompt.startswith(done) or not full.startswith(prompt):
            raise DatasetError("The chat template rewrites earlier turns, so prompt and response "
                               "cannot be told apart; use another --template.")
        pieces += [(prompt[len(done):], False), (full[len(prompt):], True)]
        done = full
    return [(text, trainable) for text, trainable in pieces if text]


def encode(conversation: Conversation, template: ChatTemplate, tokenize: Callable[[str], list[int]],
           train_on_prompt: bool = False, cutoff_len: int | None = None) -> Encoded:
    """Tokenize each segment on its own (so the prompt/response boundary is exact) and mask."""
    return mask_labels([(tokenize(text), trainable) for text, trainable in segments(conversation, template)],
                       train_on_prompt=train_on_prompt, cutoff_len=cutoff_len)
