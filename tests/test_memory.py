"""Memory across runs (memory.py): every run stored, the same task's plan reused, similar
runs shown to the planner as examples, and a store that many writers can share."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import pytest

from foreplan.agent import Agent
from foreplan.cli.commands import app
from foreplan.errors import ConfigError, RunStoreError
from foreplan.events import PlanReady
from foreplan.llm.scripted import ScriptedLLM
from foreplan.memory import RunMemory, normalize
from foreplan.plan.parse import parse_plan
from foreplan.tools import calculator, default_toolkit, tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Evidence, Status
from typer.testing import CliRunner

PLAN = "Plan: Multiply.\n#E1 = calculator[37 * 41]\nPlan: Subtract.\n#E2 = calculator[#E1 - 517]"


def agent(replies, store, **kwargs) -> tuple[Agent, ScriptedLLM]:
    llm = ScriptedLLM(replies)
    return Agent(llm, default_toolkit(), memory=store, max_replans=0, **kwargs), llm


def test_a_run_is_stored_and_the_same_task_reuses_its_plan_without_the_planner(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    first, llm = agent([PLAN, "1000"], store)
    done = first.run("What is 37 times 41, minus 517?")
    assert done.run_id == 1 and done.reused_from is None and len(llm.calls) == 2
    stored = store.get(1)
    assert stored.outcome == "ok" and stored.good and stored.answer == "1000"
    assert stored.evidence["E2"] == {"tool": "calculator", "status": "ok", "text": "1000"}
    assert stored.tools == ["calculator"] and stored.toolkit == default_toolkit().fingerprint()

    events = []
    again, llm = agent(["1000"], store)  # only the solver speaks: no planner call
    result = again.run("  what is 37 times 41,   MINUS 517? ", on_event=events.append)
    assert result.reused_from == 1 and result.answer == "1000" and len(llm.calls) == 1
    assert result.plan.render() == done.plan.render() and result.usage["planner"].calls == 0
    ready = next(e for e in events if isinstance(e, PlanReady))
    assert ready.reused_from == 1 and ready.to_dict()["reused_from"] == 1
    assert result.to_dict()["run_id"] == 2


def test_a_plan_is_not_reused_on_other_tools_or_after_a_bad_rating_or_when_it_no_longer_validates(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    agent([PLAN, "1000"], store)[0].run("What is 37 times 41, minus 517?")
    other = Agent(ScriptedLLM([PLAN, "1000"]), Toolkit([calculator]), memory=store, max_replans=0)
    assert other.run("What is 37 times 41, minus 517?").reused_from is None  # another fingerprint
    store.rate(1, "bad")
    assert store.repeat("What is 37 times 41, minus 517?", default_toolkit().fingerprint()) is None
    store.rate(1, "good")
    assert store.repeat("What is 37 times 41, minus 517?", default_toolkit().fingerprint()).id == 1
    with store._connect() as db:  # a stored plan that no longer parses is planned again
        db.execute("UPDATE runs SET plan = 'not a plan'")
    replanned, llm = agent([PLAN, "1000"], store)
    assert replanned.run("What is 37 times 41, minus 517?").reused_from is None and len(llm.calls) == 2


def test_a_run_with_a_failed_step_is_stored_but_not_reused(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    broken = "Plan: Divide.\n#E1 = calculator[1 / 0]"
    agent([broken, "No answer."], store)[0].run("Divide one by zero")
    assert store.get(1).outcome == "steps_failed" and not store.get(1).good
    assert store.repeat("Divide one by zero", default_toolkit().fingerprint()) is None


def test_similar_good_runs_become_the_planners_examples(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    agent([PLAN, "1000"], store)[0].run("What is 37 times 41, minus 517?")
    agent(["Plan: Ask.\n#E1 = LLM[a haiku about rain]", "Rain falls.", "Rain falls."], store)[0].run("Write a haiku about rain")
    runs = store.similar("What is 12 times 13, minus 7?", {"calculator", "LLM"}, k=2)
    assert [r.id for r in runs] == [1]  # the haiku shares no word (stopwords aside)
    assert store.similar("What is 12 times 13, minus 7?", {"LLM"}) == []  # its plan needs calculator
    assert store.similar("What is 37 times 41, minus 517?", {"calculator"}) == []  # same task: that is reuse

    new, llm = agent(["Plan: Multiply.\n#E1 = calculator[12 * 13]\nPlan: Subtract.\n#E2 = calculator[#E1 - 7]",
                      "149"], store)
    new.run("What is 12 times 13, minus 7?")
    prompt = llm.calls[0][0][0]["content"]
    assert "For example:\nTask: What is 37 times 41, minus 517?\nPlan: Multiply.\n#E1 = calculator[37 * 41]" in prompt


def test_retention_forgets_the_oldest_unrated_runs_first(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite", max_runs=3)
    plan = parse_plan("Plan: x.\n#E1 = calculator[1 + 1]")
    evidence = {"E1": Evidence("E1", Status.OK, "2")}
    ids = [store.add(f"task {i}", "fp", plan, evidence, "2", {}, 0.1) for i in range(3)]
    store.rate(ids[0], "good")
    store.add("task 3", "fp", plan, evidence, "2", {}, 0.1)
    assert [r.id for r in store.recent()] == [4, 3, 1] and len(store) == 3


def _write_runs(path: str, worker: int, count: int) -> None:
    store = RunMemory(path)
    plan = parse_plan("Plan: x.\n#E1 = calculator[1 + 1]")
    evidence = {"E1": Evidence("E1", Status.OK, "2")}
    for i in range(count):
        store.add(f"worker {worker} task {i}", "fp", plan, evidence, "2", {}, 0.1)


def test_threads_and_processes_write_at_once_without_losing_a_run(tmp_path):
    path = str(tmp_path / "runs.sqlite")
    RunMemory(path)
    threads = [threading.Thread(target=_write_runs, args=(path, w, 20)) for w in range(4)]
    processes = [multiprocessing.get_context("spawn").Process(target=_write_runs, args=(path, 10 + w, 20))
                 for w in range(2)]
    for worker in threads + processes:
        worker.start()
    for worker in threads + processes:
        worker.join(60)
    assert all(p.exitcode == 0 for p in processes)
    store = RunMemory(path)
    assert len(store) == 120
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM runs_text WHERE runs_text MATCH 'worker'").fetchone() == (120,)


def test_a_store_that_fails_costs_a_note_never_the_answer(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    (tmp_path / "runs.sqlite").unlink()
    (tmp_path / "runs.sqlite").mkdir()  # the file is now a folder: every write fails
    result = agent([PLAN, "1000"], store)[0].run("What is 37 times 41, minus 517?")
    assert result.answer == "1000" and result.run_id is None
    assert any("Memory was not used" in n for n in result.notes)
    assert any("This run was not stored" in n for n in result.notes)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(RunStoreError, match="--no-memory"):
        RunMemory(tmp_path / "a-file" / "runs.sqlite")


def test_unknown_ids_and_ratings_are_clear_errors(tmp_path):
    store = RunMemory(tmp_path / "runs.sqlite")
    with pytest.raises(ConfigError, match="no stored run has id 7"):
        store.get(7)
    with pytest.raises(ConfigError, match="good or bad"):
        store.rate(7, "great")
    assert normalize("  A  b ") == "a b"


@tool
def echo(text: str) -> str:
    """Echo text.

    Args:
        text: What to echo.
    """
    return text


def test_the_runs_commands_list_show_rate_and_forget(tmp_path):
    store = RunMemory()  # the conftest's private store, which the CLI also opens
    agent([PLAN, "1000"], store)[0].run("What is 37 times 41, minus 517?")
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list"])
    assert listed.exit_code == 0 and "What is 37 times 41" in listed.output and "ok" in listed.output
    shown = runner.invoke(app, ["runs", "show", "1"])
    assert "#E2 = calculator[#E1 - 517]" in shown.output and "Answer: 1000" in shown.output
    assert runner.invoke(app, ["runs", "rate", "1", "bad"]).exit_code == 0 and store.get(1).rating == "bad"
    wrong = runner.invoke(app, ["runs", "rate", "1", "meh"])
    assert wrong.exit_code == 1 and "good or bad" in wrong.output
    assert runner.invoke(app, ["runs", "forget", "9"]).exit_code == 1
    assert "forgot 1 run" in runner.invoke(app, ["runs", "forget", "--all"]).output and len(store) == 0


def test_a_store_file_that_is_not_a_database_is_a_clear_error(tmp_path, monkeypatch):
    broken = tmp_path / "runs.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RunStoreError, match="--no-memory"):
        RunMemory(broken)
    monkeypatch.setenv("FOREPLAN_MEMORY", str(broken))
    from foreplan.cli.common import build_agent

    agent = build_agent("openai:http://127.0.0.1:9#none", None, None, True, 3)  # resolving does not connect
    assert agent.memory is None  # the run goes on without memory, with a note on stderr
    assert broken.read_bytes().startswith(b"this is not a database")  # and the file is left as it was
