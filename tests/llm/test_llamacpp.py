"""The llama.cpp backend on the real embedded 0.5B model: template, constraints, usage."""

from __future__ import annotations

import json

import pytest

from foreplan.errors import LLMError, ModelFileError, UnknownModelError
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


def test_a_grammar_llama_cpp_cannot_parse_is_an_error_not_a_crash(qwen):
    with pytest.raises(LLMError, match="could not parse the GBNF grammar"):
        qwen.generate([{"role": "user", "content": "x"}],
                      GenerationOptions(max_tokens=2, constraint=Constraint(grammar="root ::= undefined-rule")))


def test_same_spec_gives_the_same_backend_and_one_load(qwen):
    again = resolve_model("qwen2.5-coder-0.5b")
    assert again is qwen
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
