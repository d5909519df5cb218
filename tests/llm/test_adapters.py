"""Shipped LoRA adapters: found, checked by sha256, refused when damaged."""

from __future__ import annotations

import hashlib

import pytest

from foreplan.errors import ModelFileError
from foreplan.llm.adapters import ADAPTERS, EmbeddedAdapter, adapter_path
from foreplan.llm.registry import MODELS


def test_every_shipped_adapter_is_present_intact_and_names_a_base():
    for adapter in ADAPTERS.values():
        assert adapter.base in MODELS
        assert adapter_path(adapter).stat().st_size > 0


def test_missing_and_damaged_adapters_are_refused(tmp_path):
    good = tmp_path / "a.gguf"
    good.write_bytes(b"GGUF adapter bytes")
    adapter = EmbeddedAdapter("x", "qwen2.5-coder-0.5b", "a.gguf", hashlib.sha256(good.read_bytes()).hexdigest(), "")
    assert adapter_path(adapter, tmp_path) == good
    damaged = EmbeddedAdapter("y", "qwen2.5-coder-0.5b", "b.gguf", "0" * 64, "")
    (tmp_path / "b.gguf").write_bytes(b"something else")
    with pytest.raises(ModelFileError, match="damaged"):
        adapter_path(damaged, tmp_path)
    with pytest.raises(ModelFileError, match="missing"):
        adapter_path(EmbeddedAdapter("z", "qwen2.5-coder-0.5b", "c.gguf", "0" * 64, ""), tmp_path)


def test_base_plus_adapter_spec_checks_the_adapter_file(tmp_path):
    from foreplan.llm.resolve import resolve_model

    with pytest.raises(ModelFileError, match="does not exist"):
        resolve_model(f"qwen2.5-coder-0.5b+{tmp_path / 'missing.gguf'}")
    not_gguf = tmp_path / "adapter.gguf"
    not_gguf.write_text("safetensors, not GGUF")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        resolve_model(f"qwen2.5-coder-0.5b+{not_gguf}")


@pytest.mark.gguf
def test_the_shipped_planner_adapter_plans_with_the_tools_it_is_shown():
    """The adapter loads on its base through llama.cpp and writes a valid plan that uses
    the one tool the task needs (a task shape from training, tools from the default kit).
    Since one-input tool lines say their input, v1 answers "What time is it in Tokyo right
    now?" with an extra hours step, its known habit (README: not the default planner)."""
    from foreplan.llm.resolve import resolve_model
    from foreplan.plan.planner import Planner
    from foreplan.tools import default_toolkit

    planner = Planner(resolve_model("embedded-0.5b-planner"), default_toolkit())
    result = planner.plan("What is the current date and time in Tokyo?")
    assert [s.tool for s in result.plan.steps] == ["get_current_time"]
    assert "Asia/Tokyo" in result.plan.steps[0].input
