"""Chat rows over real schemas: TaskBench's train split only, calls that fit their tools,
and no-call rows whose functions are close to the request but cannot do it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from foreplan import Toolkit, tool
from foreplan.eval.taskbench import load_records, split_ids
from foreplan.synth.caller_data import _row
from foreplan.synth.caller_real import glaive_negatives, hard_negatives, taskbench_rows

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "taskbench").is_dir(), reason="the shared data is not here")


def _toolkit() -> Toolkit:
    def make(name: str, doc: str):
        def f(query: str) -> str:
            return query
        f.__name__, f.__doc__ = name, f"{doc}\n\nArgs:\n    query: what to look for."
        return tool(f)

    return Toolkit([make("search_books", "Search for books by title or author."),
                    make("search_book", "Find a book by its author."),
                    make("search_movies", "Search for movies by title, author or director."),
                    make("get_weather", "Get the weather for a city.")])


def test_hard_negatives_are_close_to_the_request_but_never_a_stand_in():
    r = random.Random(0)
    for _ in range(20):
        offered = {t.name for t in hard_negatives(r, _toolkit(), "Find books by the author George Orwell", "search_books")}
        assert offered and offered <= {"search_movies", "get_weather"}  # search_book could do it
        assert "search_movies" in offered  # the closest by words comes first


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return taskbench_rows(DATA, 0, _row)


@needs_data
def test_taskbench_rows_come_from_its_train_split_only(rows):
    train, test = split_ids("train"), split_ids("test")
    said = {}
    for record in load_records(DATA):
        for text in (record["instruction"].strip(), record["user_request"].strip()):
            said.setdefault(text, set()).add(str(record["id"]))
    for row in rows:
        request = row["conversations"][0]["value"]
        assert said[request] & train, request
        assert not said[request] <= test


@needs_data
def test_taskbench_calls_fit_the_functions_offered_and_no_call_rows_leave_the_needed_one_out(rows):
    kinds = {r["source"] for r in rows}
    assert kinds == {"taskbench-one", "taskbench-several", "taskbench-none"}
    for row in rows:
        offered = {f["name"]: f for f in json.loads(row["tools"])}
        (_, request), (role, reply) = [(t["from"], t["value"]) for t in row["conversations"]]
        if row["source"] == "taskbench-none":
            assert role == "gpt" and "no call" in reply and 1 <= len(offered) <= 3
            continue
        calls = json.loads(reply)
        calls = calls if isinstance(calls, list) else [calls]
        assert (len(calls) > 1) == (row["source"] == "taskbench-several")
        for call in calls:
            properties = offered[call["name"]]["parameters"]["properties"]
            assert set(call["arguments"]) <= set(properties)
            assert not any("<node-" in str(v) for v in call["arguments"].values())


@needs_data
def test_glaive_no_call_rows_never_offer_the_function_the_request_called():
    glaive = json.loads((DATA / "function_calling" / "glaive_toolcall_en_demo.json").read_text())
    called = {}
    for item in glaive:
        turns = item["conversations"]
        if len(turns) > 1 and turns[1]["from"] == "function_call":
            called[turns[0]["value"].strip()] = json.loads(turns[1]["value"])["name"]
    made = glaive_negatives(glaive, 0, _row)
    assert len(made) >= 30
    for row in made:
        request = row["conversations"][0]["value"]
        assert called[request] not in {f["name"] for f in json.loads(row["tools"])}


def test_an_argument_called_title_is_kept_when_schema_titles_are_dropped():
    from foreplan.synth.caller_chat import function

    @tool
    def play_movie(title: str) -> str:
        """Play a movie.

        Args:
            title: the movie's title.
        """
        return title

    parameters = function(play_movie)["parameters"]
    assert parameters == {"type": "object", "required": ["title"],
                          "properties": {"title": {"type": "string", "description": "the movie's title."}}}
