"""The whole agent on the scripted LLM: plan → parallel steps → solve, and what goes wrong."""

from __future__ import annotations

import json
import threading
import time

import pytest

from foreplan import Agent, ScriptedLLM, Toolkit, tool
from foreplan.errors import ConfigError, PlanInvalidError, ToolError
from foreplan.events import AnswerReady, PlanReady, RunStarted, StepFinished, StepStarted
from foreplan.tools import default_toolkit
from foreplan.types import Status

_active = 0
_peak = 0
_lock = threading.Lock()


@tool(timeout=5)
def slow_lookup(query: str) -> str:
    """Look something up slowly.

    Args:
        query: What to look up.
    """
    global _active, _peak
    with _lock:
        _active += 1
        _peak = max(_peak, _active)
    time.sleep(0.2)
    with _lock:
        _active -= 1
    if "fail" in query:
        raise ToolError(f"nothing found for {query!r}")
    return f"result for {query}"


@tool
def book_table(restaurant: str, people: int, time: str = "19:00") -> dict:
    """Book a table.

    Args:
        restaurant: Name of the restaurant.
        people: How many people.
        time: When, HH:MM.
    """
    return {"restaurant": restaurant, "people": people, "time": time, "confirmation": "ABC123"}


PLAN = """Plan: Look up the first thing.
#E1 = slow_lookup[alpha]
Plan: Look up the second thing at the same time.
#E2 = slow_lookup[beta]
Plan: This one fails.
#E3 = slow_lookup[fail me]
Plan: Needs the failed one.
#E4 = slow_lookup[#E3 and more]
Plan: Combine the first two.
#E5 = slow_lookup[#E1 + #E2]
"""


def make_agent(replies, **kwargs) -> tuple[Agent, ScriptedLLM]:
    llm = ScriptedLLM(replies)
    return Agent(llm, Toolkit([slow_lookup, book_table]), **kwargs), llm


def test_run_plans_executes_in_parallel_and_solves(tmp_path):
    global _peak
    _peak = 0
    events = []
    agent, llm = make_agent([PLAN, "The answer."], trace=tmp_path / "run.jsonl", caller=ScriptedLLM([]), max_replans=0)
    result = agent.run("Look things up", on_event=events.append)

    assert result.answer == "The answer."
    assert [s.id for s in result.plan.steps] == ["E1", "E2", "E3", "E4", "E5"]
    statuses = {k: v.status for k, v in result.evidence.items()}
    assert statuses == {"E1": Status.OK, "E2": Status.OK, "E3": Status.ERROR, "E4": Status.SKIPPED, "E5": Status.OK}
    assert result.evidence["E5"].input == "result for alpha + result for beta"
    assert "#E3" in result.evidence["E4"].error
    assert _peak == 3  # E1, E2, E3 ran at the same time: two levels, not five steps in a row

    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and kinds[1] is PlanReady and kinds[-1] is AnswerReady
    assert kinds.count(StepStarted) == 4 and kinds.count(StepFinished) == 5  # E4 skipped, never started

    # The solver saw every step, with the failure and the skip spelled out.
    solver_prompt = llm.calls[-1][0][-1]["content"]
    assert "[error] slow_lookup failed: nothing found for 'fail me'" in solver_prompt
    assert "[skipped] skipped because #E3 error" in solver_prompt
    assert solver_prompt.rstrip().endswith("Task: Look things up\nResponse:")

    trace = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [t["event"] for t in trace][:2] == ["run_started", "plan_ready"]
    assert trace[-1]["event"] == "answer"
    assert not (tmp_path / "run.jsonl.partial").exists()

    out = result.to_dict()
    assert set(out) >= {"instruction", "plan", "evidence", "answer", "usage", "seconds"}
    assert out["plan"][4]["depends_on"] == ["E1", "E2"]
    assert set(out["evidence"]["E1"]) >= {"status", "value", "error", "seconds"}
    assert set(out["usage"]) == {"planner", "caller", "solver", "tools"}
    assert out["usage"]["planner"]["calls"] == 1 and out["usage"]["solver"]["calls"] == 1
    json.dumps(out)  # serializable as a whole


def test_planner_is_asked_once_more_with_the_problems():
    bad = "Plan: Use a tool that does not exist.\n#E1 = search_google[alpha]\n"
    agent, llm = make_agent([bad, "Plan: Fixed.\n#E1 = slow_lookup[alpha]\n", "done"])
    result = agent.run("Look up alpha")
    assert result.plan_attempts == 2
    repair = llm.calls[1][0]
    # a fresh prompt with the problems before the task, not the bad plan to copy again
    assert len(repair) == 1 and bad.strip() not in repair[0]["content"]
    text = repair[0]["content"]
    assert text.index("unknown tool 'search_google'") < text.index("Task: Look up alpha")
    assert "slow_lookup" in text


def test_a_plan_that_stays_invalid_is_a_typed_error():
    agent, _ = make_agent(["I cannot plan this.", "Plan: still no\n#E1 = slow_lookup[#E7]\n"])
    with pytest.raises(PlanInvalidError, match="refers to #E7, which no step defines") as info:
        agent.run("Look up alpha")
    assert "#E1 = slow_lookup[#E7]" in str(info.value)


def test_the_planner_is_constrained_by_the_toolkit_grammar():
    agent, llm = make_agent(["Plan: a\n#E1 = slow_lookup[x]\n", "ok"])
    agent.run("x")
    grammar = llm.calls[0][1].constraint.grammar
    assert '"slow_lookup"' in grammar and '"book_table"' in grammar
    agent, llm = make_agent(["Plan: a\n#E1 = slow_lookup[x]\n", "ok"], grammar=False)
    agent.run("x")
    assert llm.calls[0][1].constraint.grammar is None


def test_multi_argument_tool_goes_through_the_function_caller():
    caller = ScriptedLLM(['{"restaurant": "Chez Foo", "people": 4}'])
    agent, _ = make_agent(["Plan: Book.\n#E1 = book_table[Chez Foo for four people]\n", "Booked."], caller=caller)
    result = agent.run("Book Chez Foo for four")
    ev = result.evidence["E1"]
    assert ev.status is Status.OK
    assert ev.arguments == {"restaurant": "Chez Foo", "people": 4, "time": "19:00"}
    assert ev.value["confirmation"] == "ABC123"
    assert caller.calls[0][1].constraint.json_schema["required"] == ["restaurant", "people"]
    assert result.usage["caller"].calls == 1


def test_llm_tool_uses_the_runs_model_and_counts_tool_tokens():
    llm = ScriptedLLM([
        "Plan: Ask.\n#E1 = LLM[Name a colour]\nPlan: Square.\n#E2 = calculator[7^2]\n",
        "blue",
        "blue, 49",
    ])
    result = Agent(llm, default_toolkit()).run("Name a colour and square 7")
    assert result.evidence["E1"].value == "blue"
    assert result.evidence["E2"].value == 49
    assert result.usage["tools"].calls == 1
    assert result.answer == "blue, 49"


def test_empty_instruction_is_refused_before_any_model_call():
    agent, llm = make_agent([])
    with pytest.raises(ConfigError, match="instruction is empty"):
        agent.run("   ")
    assert llm.calls == []


def test_stream_yields_events_then_the_result():
    agent, _ = make_agent(["Plan: a\n#E1 = slow_lookup[x]\n", "ok"])
    items = list(agent.stream("x"))
    assert isinstance(items[0], RunStarted)
    assert items[-1].answer == "ok"


def test_stream_raises_the_runs_error():
    agent, _ = make_agent(["nonsense", "more nonsense"])
    with pytest.raises(PlanInvalidError):
        list(agent.stream("x"))


def test_usage_counts_the_seconds_each_role_spends_in_its_model():
    import time

    from foreplan.llm.meter import MeteredLLM
    from foreplan.llm.base import GenerationOptions
    from foreplan.types import Completion, Usage

    class Slow:
        name, supports_grammar = "slow", False

        def generate(self, messages, options):
            time.sleep(0.05)
            return Completion("ok", Usage(3, 1, 1))

    metered = MeteredLLM(Slow())
    metered.generate([{"role": "user", "content": "x"}], GenerationOptions())
    metered.generate([{"role": "user", "content": "x"}], GenerationOptions())
    assert metered.usage.calls == 2 and metered.usage.prompt_tokens == 6
    assert metered.usage.seconds >= 0.1  # two calls of at least 0.05 s each
    assert metered.usage.to_dict()["seconds"] == round(metered.usage.seconds, 3)
