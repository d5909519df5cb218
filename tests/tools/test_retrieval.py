"""Tool retrieval: a big toolkit cut to the tools a task needs, with producers and
always-on tools kept, and the planner shown only those (tools/retrieval.py)."""

from __future__ import annotations

from pathlib import Path

from foreplan.agent import Agent
from foreplan.events import PlanReady, ToolsChosen
from foreplan.llm.scripted import ScriptedLLM
from foreplan.plan.grammar import DEFAULT_MAX_STEPS, plan_grammar
from foreplan.tools import llm_tool
from foreplan.tools.config import build_toolkit, load_toolkit_config
from foreplan.tools.embed import embedder, model_folder
from foreplan.tools.retrieval import DEFAULT_K, THRESHOLD, choose_tools, clauses, rank_tools, words
from foreplan.tools.toolkit import Toolkit

from lookup_tools import search_hotels, search_location

TASKBENCH_TOML = Path(__file__).resolve().parents[2] / "configs" / "toolkits" / "taskbench.toml"


def taskbench() -> Toolkit:
    return build_toolkit(load_toolkit_config(TASKBENCH_TOML))


def test_names_become_words_and_tasks_become_clauses():
    assert words("get_weather") == "get weather" and words("searchHotelsByGeoId") == "search Hotels By Geo Id"
    assert clauses("Book a flight to Rome, then order a taxi and text me. Thanks!") == [
        "Book a flight to Rome", "order a taxi", "text me.", "Thanks!"]
    assert clauses("Ask Dr. Smith about it. Then pay.") == ["Ask Dr. Smith about it.", "Then pay."]


def test_ranking_is_bm25_over_stemmed_names_descriptions_and_arguments():
    ranked = [name for name, _ in rank_tools(taskbench(), "I am booking flights to Tokyo")]
    assert ranked[0] == "book_flight"  # "booking" and "flights" match "book" and "flight"
    assert rank_tools(taskbench(), "?!") == []


def test_a_small_toolkit_is_shown_whole():
    toolkit = Toolkit([llm_tool])
    assert choose_tools(toolkit, "anything").tools == ("LLM",) and not choose_tools(toolkit, "x").cut


def test_a_big_toolkit_is_cut_to_each_clauses_best_tool_then_the_whole_tasks():
    toolkit = taskbench()
    assert len(toolkit) == 40 > THRESHOLD
    choice = choose_tools(toolkit, "Book a flight from Paris to Rome on 2025-05-02, then send an sms to 555-0101 "
                                   "with the details and play the song 'Volare'")
    assert choice.cut and choice.total == 40 and len(choice.tools) <= DEFAULT_K
    assert {"book_flight", "send_sms", "play_music_by_title"} <= set(choice.tools)
    assert list(choice.tools) == [n for n in toolkit.names if n in choice.tools]  # the toolkit's order
    assert "matches 'Book a flight" in choice.reasons["book_flight"]
    assert len(choose_tools(toolkit, "Book a flight, then send an sms", k=1).tools) == 1


def test_a_task_matching_no_tool_keeps_them_all():
    choice = choose_tools(taskbench(), "zxqv wpyk")  # no shared word, and close in meaning to nothing
    assert len(choice.tools) == 40 and not choice.cut
    assert set(choice.reasons.values()) == {"no tool matches the task's words or meaning"}


def test_embeddings_find_the_tool_a_clause_names_in_other_words():
    assert embedder() is not None  # the test extra installs the retrieval extra
    toolkit = taskbench()
    task = "Wake me up at 6:30 tomorrow, then book a car in Lyon"
    assert "set_alarm" not in [name for name, _ in rank_tools(toolkit, task)]  # no shared word
    choice = choose_tools(toolkit, task)
    assert "set_alarm" in choice.tools and "means what 'Wake me up at 6:30 tomorrow'" in choice.reasons["set_alarm"]
    assert "set_alarm" not in choose_tools(toolkit, task, meaning=False).tools
    assert model_folder().joinpath(".verified").is_file()


def test_always_on_tools_and_the_producers_of_needed_ids_survive_the_cut():
    toolkit = taskbench()
    toolkit.add(llm_tool)
    toolkit.add(search_location)
    toolkit.add(search_hotels)
    choice = choose_tools(toolkit, "Search hotels in Lisbon", k=1)
    assert choice.tools == ("LLM", "search_location", "search_hotels")
    assert choice.reasons["LLM"] == "always on"
    assert choice.reasons["search_location"] == "returns geoId, which search_hotels's geoId needs"
    toolkit.always_on = frozenset()
    assert "LLM" not in choose_tools(toolkit, "Search hotels in Lisbon", k=1).tools


def test_the_agent_plans_on_the_chosen_tools_and_reports_the_choice():
    toolkit = taskbench()
    plan = "Plan: Book it.\n#E1 = book_flight[date='2025-05-02', from='Paris', to='Rome']"
    planner = ScriptedLLM([plan, "Booked."])
    caller = ScriptedLLM(['{"date": "2025-05-02", "from": "Paris", "to": "Rome"}'])
    events = []
    result = Agent(planner, toolkit, caller=caller, max_replans=0).run("Book a flight from Paris to Rome on 2025-05-02",
                                                                       on_event=events.append)
    chosen = [e for e in events if isinstance(e, ToolsChosen)]
    assert len(chosen) == 1 and isinstance(events[2], PlanReady)  # chosen before planning
    shown = chosen[0].choice.tools
    prompt = planner.calls[0][0][0]["content"]
    assert "book_flight[input]" in prompt and all(f"{n}[input]" in prompt for n in shown)
    assert sum(f"{n}[input]" in prompt for n in toolkit.names) == len(shown) < 40
    grammar = planner.calls[0][1].constraint.grammar
    assert grammar == plan_grammar(toolkit.subset(shown), DEFAULT_MAX_STEPS)  # the grammar admits only the chosen tools
    assert result.to_dict()["tools"]["tools"] == list(shown) and chosen[0].to_dict()["event"] == "tools_chosen"
    assert result.evidence["E1"].text().startswith("book_flight done")


def test_all_tools_shows_the_planner_every_tool():
    toolkit = taskbench()
    planner = ScriptedLLM(["Plan: Book it.\n#E1 = book_car[date='2025-05-02', location='Rome']"])
    agent = Agent(planner, toolkit, max_tools=None)
    result = agent.plan("Book a car in Rome on 2025-05-02")
    assert result.tools is None
    assert all(f"{n}[input]" in planner.calls[0][0][0]["content"] for n in toolkit.names)


def test_a_subset_keeps_the_policies_and_an_example_only_when_its_tools_are_in():
    toolkit = taskbench()
    toolkit.planner_example = "Task: weather\nPlan: look.\n#E1 = get_weather[location='Rome', date='today']"
    toolkit.allow_untrusted = frozenset({"content"})
    part = toolkit.subset(["get_weather", "send_sms"])
    assert part.names == ["get_weather", "send_sms"] and part.allow_untrusted == {"content"}
    assert part.planner_example == toolkit.planner_example
    assert toolkit.subset(["send_sms"]).planner_example is None
