"""The llama.cpp backend on the real embedded 0.5B model: template, constraints, usage."""

from __future__ import annotations

import json

import pytest

from foreplan.errors import LLMError, ModelFileError, PromptTooLongError, UnknownModelError
from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
from foreplan.llm.resolve import resolve_model

pytestmark = pytest.mark.gguf


@pytest.fixture(scope="module")
def qwen() -> LlamaCppLLM:
    return resolve_model("qwen2.5-coder-0.5b")


def test_prompt_is_rendered_with_the_models_own_template_and_text_kept_verbatim(qwen):
    messages = [{"role": "user", "content": "Don't escape <b>this</b> & 'that'"}]
    assert qwen.render(messages) == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nDon't escape <b>this</b> & 'that'<|im_end|>\n<|im_start|>assistant\n"
    )


def test_grammar_constrains_and_usage_is_counted(qwen):
    out = qwen.generate(
        [{"role": "user", "content": "Is the sky green? Answer yes or no."}],
        GenerationOptions(max_tokens=4, constraint=Constraint(grammar='root ::= "yes" | "no"')),
    )
    assert out.text in ("yes", "no")
    assert out.usage.prompt_tokens > 10 and out.usage.completion_tokens >= 1 and out.usage.calls == 1


def test_json_schema_constrains(qwen):
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "people": {"type": "integer"}},
              "required": ["city", "people"]}
    out = qwen.generate(
        [{"role": "user", "content": "A table for 4 in Paris. Give city and people as JSON."}],
        GenerationOptions(max_tokens=40, constraint=Constraint(json_schema=schema)),
    )
    value = json.loads(out.text)
    assert isinstance(value["city"], str) and isinstance(value["people"], int)


def test_stop_strings_end_the_completion(qwen):
    out = qwen.generate(
        [{"role": "user", "content": "Count from 1 to 10 separated by commas."}],
        GenerationOptions(max_tokens=40, stop=("5",)),
    )
    assert "5" not in out.text and "4" in out.text


COUNT = [{"role": "user", "content": "Count from 1 to 10 separated by commas."}]


def test_a_final_assistant_message_is_continued_not_answered(qwen):
    messages = [*COUNT, {"role": "assistant", "content": "1, 2, 3, 4,"}]
    assert qwen.render(messages).endswith("<|im_start|>assistant\n1, 2, 3, 4,")
    out = qwen.generate(messages, GenerationOptions(max_tokens=6))
    assert out.text.startswith(" 5, 6")


def test_streamed_pieces_join_up_to_the_text_with_the_same_usage_and_no_stop_prefix(qwen):
    pieces: list[str] = []
    streamed = qwen.generate(COUNT, GenerationOptions(max_tokens=16, stop=(", 5",), on_text=pieces.append))
    plain = qwen.generate(COUNT, GenerationOptions(max_tokens=16, stop=(", 5",)))
    assert len(pieces) > 3 and "".join(pieces) == streamed.text == plain.text == "1, 2, 3, 4"
    assert (streamed.usage.prompt_tokens, streamed.usage.completion_tokens) == (
        plain.usage.prompt_tokens, plain.usage.completion_tokens) and streamed.finish_reason == "stop"


def test_usage_says_how_much_of_the_prompt_came_from_the_prefix_cache(qwen):
    messages = [{"role": "user", "content": "Name a colour that starts with q, please (cache test 7)."}]
    first = qwen.generate(messages, GenerationOptions(max_tokens=2))
    again = qwen.generate(messages, GenerationOptions(max_tokens=2))
    assert first.usage.cached_tokens < first.usage.prompt_tokens  # this question is new
    assert again.usage.cached_tokens == again.usage.prompt_tokens == first.usage.prompt_tokens


def test_the_grammar_path_streams_too(qwen):
    pieces: list[str] = []
    out = qwen.generate(COUNT, GenerationOptions(max_tokens=8, constraint=Constraint(grammar='root ::= "1, 2, 3"'),
                                                 on_text=pieces.append))
    assert len(pieces) > 1 and "".join(pieces) == out.text == "1, 2, 3"


def test_raising_from_on_text_stops_decoding_and_the_model_stays_usable(qwen):
    class Gone(Exception):
        pass

    pieces: list[str] = []

    def leave_after_two(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 2:
            raise Gone

    with pytest.raises(Gone):
        qwen.generate(COUNT, GenerationOptions(max_tokens=16, on_text=leave_after_two))
    assert pieces == ["1", ","]
    assert qwen.generate(COUNT, GenerationOptions(max_tokens=4)).text == "1, 2"


def test_seed_and_top_p_make_sampling_reproducible(qwen):
    sample = GenerationOptions(max_tokens=8, temperature=1.5, top_p=0.9, top_k=50, seed=3)
    story = [{"role": "user", "content": "Begin a story."}]
    assert qwen.generate(story, sample).text == qwen.generate(story, sample).text


def test_a_grammar_llama_cpp_cannot_parse_is_an_error_not_a_crash(qwen):
    with pytest.raises(LLMError, match="could not parse the GBNF grammar"):
        qwen.generate([{"role": "user", "content": "x"}],
                      GenerationOptions(max_tokens=2, constraint=Constraint(grammar="root ::= undefined-rule")))


def test_same_spec_gives_the_same_backend_and_one_load(qwen):
    from foreplan.llm.resolve import ModelRegistry

    registry = ModelRegistry()
    assert registry.resolve("qwen2.5-coder-0.5b") is registry.resolve("qwen2.5-coder-0.5b")
    assert resolve_model("qwen2.5-coder-0.5b").llama is qwen.llama  # another registry, the same weights
    by_path = LlamaCppLLM(pull(get_model("qwen2.5-coder-0.5b")))
    assert by_path.llama is qwen.llama  # one model load per file per process


def test_bad_model_files_and_specs(tmp_path):
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ModelFileError, match="is not a GGUF file"):
        resolve_model(str(not_gguf))
    truncated = tmp_path / "cut.gguf"
    with pull(get_model("gemma-3-270m")).open("rb") as f:
        truncated.write_bytes(f.read(1 << 20))
    with pytest.raises(ModelFileError, match="could not load"):
        LlamaCppLLM(truncated).llama
    with pytest.raises(ModelFileError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(UnknownModelError, match="No embedded model named 'gpt-9'"):
        resolve_model("gpt-9")


def test_a_prompt_longer_than_the_trained_context_fails_at_once_with_what_to_do(qwen):
    import time

    started = time.perf_counter()
    with pytest.raises(PromptTooLongError, match=r"reads at most 32768\. Give the agent fewer tools"):
        qwen.generate([{"role": "user", "content": "tool " * 40_000}], GenerationOptions(max_tokens=8))
    assert time.perf_counter() - started < 5  # no grammar, no evaluation: only the tokenizer ran


def test_the_context_grows_to_hold_a_long_prompt_and_its_reply(qwen):
    llm = LlamaCppLLM(qwen.path)  # a backend of its own: its n_ctx changes
    llm._fit(5000, 512)
    assert llm.n_ctx == 8192
    llm._fit(31_000, 4096)
    assert llm.n_ctx == 32768  # the reply gets what the trained context leaves


def test_a_json_schema_pattern_that_matches_anywhere_is_decoded_with_its_meaning(qwen):
    # Pydantic writes Field(pattern="^https?://") as is; llama.cpp's converter asserted.
    schema = {"type": "object", "required": ["url"],
              "properties": {"url": {"type": "string", "pattern": "^https?://"}}}
    options = GenerationOptions(max_tokens=40, constraint=Constraint(json_schema=schema))
    reply = qwen.generate([{"role": "user", "content": "Give the address of example.com in JSON."}], options)
    url = json.loads(reply.text)["url"]
    assert url.startswith(("http://", "https://"))


def test_patterns_are_anchored_and_kept_as_they_mean():
    from foreplan.llm.llamacpp import anchored

    def pattern(p):
        return anchored({"properties": {"u": {"type": "string", "pattern": p}}})["properties"]["u"]["pattern"]

    assert pattern("^https?://") == "^https?://.*$"
    assert pattern("abc") == "^.*(abc).*$"
    assert pattern("^[a-z]+$") == "^[a-z]+$"
    # A property named "pattern" is a schema, not a regular expression.
    named = {"properties": {"pattern": {"type": "string", "pattern": "x"}}}
    assert anchored(named)["properties"]["pattern"] == {"type": "string", "pattern": "^.*(x).*$"}
    assert "pattern" not in anchored({"type": "string", "pattern": "x"}, keep_patterns=False)
