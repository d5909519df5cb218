"""The validator finds every problem that would stop a plan from running, one Problem
per code, with messages that tell the planner what to change when it repairs its plan."""

from __future__ import annotations

from typing import Annotated, TypedDict

import pytest
from pydantic import Field

from foreplan.plan.parse import parse_plan
from foreplan.plan.validate import Problem, validate_plan
from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Step

from lookup_tools import search_airport, search_flights, search_hotels, search_location

TOOL_LIST = "the tools are: search_wiki, query_sql, top_films, convert_currency"


def problems(text: str, toolkit: Toolkit, max_steps: int | None = None) -> list[Problem]:
    return validate_plan(parse_plan(text), toolkit, max_steps)


def codes(found: list[Problem]) -> list[tuple[str, str]]:
    return [(p.step_id, p.code) for p in found]


def test_a_valid_plan_has_no_problems(toolkit: Toolkit) -> None:
    text = (
        "Plan: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Plan: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1' AND Year IN [2010, 2014]]\n"
        "Plan: Search one.\n#E3 = search_wiki[#E2.rows[0].Title]\n"
        "Plan: The top films.\n#E4 = top_films[ 5 ]\n"
        'Plan: Convert.\n#E5 = convert_currency[{"amount": 3, "currency": "USD"}]\n'
        "Plan: Convert again.\n#E6 = convert_currency[the budget of #E3 in euros]\n"
        "Plan: Convert once more.\n#E7 = convert_currency[3 dollars to yen]\n"
    )
    assert problems(text, toolkit, max_steps=7) == []


@pytest.mark.parametrize(
    ("name", "hint"),
    [("search_wik", "search_wiki"), ("Search_Wiki", "search_wiki"), ("query-sql", "query_sql"), ("top_film", "top_films")],
)
def test_unknown_tool_suggests_the_closest_and_lists_all(toolkit: Toolkit, name: str, hint: str) -> None:
    [problem] = problems(f"Plan: a\n#E1 = {name}[Inception]", toolkit)
    assert (problem.step_id, problem.code) == ("E1", "unknown_tool")
    assert problem.message == f"unknown tool {name!r} (did you mean {hint!r}?); {TOOL_LIST}"
    assert str(problem) == f"#E1: {problem.message}"


def test_unknown_tool_without_a_close_match_still_lists_the_tools(toolkit: Toolkit) -> None:
    [problem] = problems("Plan: a\n#E1 = google[Inception]", toolkit)
    assert problem.message == f"unknown tool 'google'; {TOOL_LIST}"


def test_duplicate_id(toolkit: Toolkit) -> None:
    found = problems("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E1 = search_wiki[y]", toolkit)
    assert codes(found) == [("E1", "duplicate_id")]
    assert "#E1 is defined twice" in found[0].message and "#E1, #E2" in found[0].message


@pytest.mark.parametrize("line", ["#E2 = search_wiki[]", "#E2 = search_wiki[   ]"])
def test_empty_input(toolkit: Toolkit, line: str) -> None:
    found = problems(f"Plan: a\n#E1 = search_wiki[x]\nPlan: b\n{line}", toolkit)
    assert codes(found) == [("E2", "empty_input")]
    assert str(found[0]) == "#E2: search_wiki[] has an empty input"


def test_undefined_reference(toolkit: Toolkit) -> None:
    found = problems("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = search_wiki[#E1 and #E7.title]", toolkit)
    assert codes(found) == [("E2", "undefined_reference")]
    assert str(found[0]) == "#E2: refers to #E7, which no step defines"


def test_e10_is_undefined_even_when_e1_exists(toolkit: Toolkit) -> None:
    found = problems("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = search_wiki[#E10]", toolkit)
    assert codes(found) == [("E2", "undefined_reference")]
    assert "#E10" in found[0].message


def test_forward_reference(toolkit: Toolkit) -> None:
    text = "Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = search_wiki[#E3]\nPlan: c\n#E3 = search_wiki[y]"
    found = problems(text, toolkit)
    assert codes(found) == [("E2", "forward_reference")]
    assert str(found[0]) == "#E2: refers to #E3, which comes later; a step may only use earlier results"


def test_self_reference(toolkit: Toolkit) -> None:
    found = problems("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = search_wiki[#E2.rows[0]]", toolkit)
    assert codes(found) == [("E2", "self_reference")]
    assert str(found[0]) == "#E2: #E2 refers to its own result"


def test_cycle_names_every_step_on_it(toolkit: Toolkit) -> None:
    text = ("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = search_wiki[#E1 #E4]\n"
            "Plan: c\n#E3 = search_wiki[#E2]\nPlan: d\n#E4 = search_wiki[#E3]")
    found = problems(text, toolkit)
    assert codes(found) == [("E2", "forward_reference"), ("E2", "cycle")]
    assert found[1].message == "steps depend on each other in a circle: #E2 -> #E4 -> #E3 -> #E2"


def test_a_long_chain_is_no_recursion_error(toolkit: Toolkit) -> None:
    # Each step needs the next one: 3000 forward references and one long path, no cycle.
    n = 3000
    steps = tuple(Step(f"E{k}", "p", "search_wiki", f"#E{k + 1}" if k < n else "x") for k in range(1, n + 1))
    found = validate_plan(Plan(steps), toolkit)
    assert len(found) == n - 1 and {p.code for p in found} == {"forward_reference"}


def test_bad_input_for_an_int_tool(toolkit: Toolkit) -> None:
    found = problems("Plan: a\n#E1 = top_films[abc]", toolkit)
    assert codes(found) == [("E1", "bad_input")]
    assert found[0].message.startswith("arguments for top_films do not fit its schema: count: ")
    assert "valid integer" in found[0].message


def test_a_one_input_is_judged_as_the_worker_reads_it(toolkit: Toolkit) -> None:
    for text in ("count=5", "'5'", "count = '5'"):  # its own keyword, or quoted: the value
        assert problems(f"Plan: a\n#E1 = top_films[{text}]", toolkit) == []
    assert codes(problems("Plan: a\n#E1 = top_films[count='five']", toolkit)) == [("E1", "bad_input")]


def test_an_int_tool_given_a_reference_is_left_to_the_worker(toolkit: Toolkit) -> None:
    assert problems("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = top_films[#E1]", toolkit) == []


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        ('{"amount": "lots", "currency": "USD"}', "amount: Input should be a valid number"),
        ('{"currency": "USD"}', "amount: Field required"),
        ('{"amount": 3, "currency": ["USD"]}', "currency: Input should be a valid string"),
    ],
)
def test_bad_input_for_a_multi_argument_tool(toolkit: Toolkit, arguments: str, detail: str) -> None:
    found = problems(f"Plan: a\n#E1 = convert_currency[{arguments}]", toolkit)
    assert codes(found) == [("E1", "bad_input")]
    assert found[0].message.startswith("arguments for convert_currency do not fit its schema: ")
    assert detail in found[0].message


@pytest.mark.parametrize("text", ["3 dollars in euros", "{not json", "[3, 4]", '{"a": ' * 100_000])
def test_text_that_is_not_json_arguments_is_left_to_the_function_caller(toolkit: Toolkit, text: str) -> None:
    assert validate_plan(Plan((Step("E1", "p", "convert_currency", text),)), toolkit) == []


def test_too_many_steps(toolkit: Toolkit) -> None:
    text = "\n".join(f"Plan: p{k}\n#E{k} = search_wiki[q{k}]" for k in range(1, 5))
    found = problems(text, toolkit, max_steps=3)
    assert codes(found) == [("", "too_many_steps")]
    assert str(found[0]) == "the plan has 4 steps; at most 3 are allowed"
    assert problems(text, toolkit, max_steps=4) == []
    assert problems(text, toolkit) == []


def test_every_problem_is_reported_at_once(toolkit: Toolkit) -> None:
    text = ("Plan: a\n#E1 = searh_wiki[#E1]\nPlan: b\n#E1 = top_films[many]\n"
            "Plan: c\n#E3 = query_sql[]\nPlan: d\n#E4 = search_wiki[#E9 #E5]\nPlan: e\n#E5 = search_wiki[x]")
    assert codes(problems(text, toolkit, max_steps=4)) == [
        ("", "too_many_steps"),
        ("E1", "duplicate_id"),
        ("E1", "unknown_tool"),
        ("E1", "self_reference"),
        ("E1", "bad_input"),
        ("E3", "empty_input"),
        ("E4", "undefined_reference"),
        ("E4", "forward_reference"),
    ]


class Message(TypedDict):
    sender: str
    body: str


@tool
def read_text(folder: str) -> str:
    """Read a message as text.

    Args:
        folder: the folder.
    """
    return ""


def test_a_field_of_a_result_is_checked_against_what_the_tool_declares_it_returns():
    @tool
    def read_message(folder: str) -> Message:
        """Read a message.

        Args:
            folder: the folder.
        """
        return {"sender": "", "body": ""}

    @tool
    def echo(text: str) -> dict:
        """Echo.

        Args:
            text: the text.
        """
        return {}

    toolkit = Toolkit([read_text, read_message, echo])
    plan = parse_plan("#E1 = read_text[inbox]\n#E2 = read_message[inbox]\n#E3 = echo[x]\n"
                      "#E4 = echo[#E1.body]\n#E5 = echo[#E2.subject]\n#E6 = echo[#E2.body #E3.anything #E1]")
    problems = [(p.step_id, p.code, p.message) for p in validate_plan(plan, toolkit)]
    assert problems == [
        ("E4", "no_such_field", "#E1.body: read_text returns text, which has no field 'body'; use #E1 whole"),
        ("E5", "no_such_field", "#E2.subject: read_message's result has no field 'subject'; it has: sender, body"),
    ]


def test_a_field_the_producer_does_not_return_gets_one_repair_and_never_loses_the_run():
    from foreplan.llm.scripted import ScriptedLLM
    from foreplan.plan.planner import Planner

    toolkit = Toolkit([read_text])
    wrong = "Plan: read\n#E1 = read_text[inbox]\nPlan: again\n#E2 = read_text[#E1.body]"
    right = "Plan: read\n#E1 = read_text[inbox]\nPlan: again\n#E2 = read_text[#E1]"
    repaired = Planner(ScriptedLLM([wrong, right]), toolkit).plan("read twice")
    assert repaired.attempts == 2 and repaired.plan.steps[1].input == "#E1"
    kept = Planner(ScriptedLLM([wrong, wrong]), toolkit).plan("read twice")  # runs; that step fails as evidence
    assert kept.attempts == 2 and kept.plan.steps[1].input == "#E1.body"


def test_an_id_written_from_the_task_names_the_tool_that_returns_it() -> None:
    toolkit = Toolkit([search_location, search_airport, search_hotels, search_flights])
    plan = parse_plan("Plan: hotels.\n#E1 = search_hotels[geoId='Paris', checkin='2025-05-01']\n"
                      "Plan: flights.\n#E2 = search_flights['London', 'Paris', '2025-05-01']")
    problems = [p for p in validate_plan(plan, toolkit) if p.code == "needs_producer"]
    assert [p.step_id for p in problems] == ["E1", "E2", "E2"]
    assert "search_hotels's geoId is an id that search_location returns (as geoId), and 'Paris'" in problems[0].message
    assert "call search_airport first and pass #E<n>.skyId" in problems[1].message  # originSkyId ← skyId
    chained = parse_plan("Plan: where.\n#E1 = search_location[Paris]\n"
                         "Plan: hotels.\n#E2 = search_hotels[geoId=#E1.geoId, checkin='2025-05-01']")
    assert validate_plan(chained, toolkit) == []
    assert "Returns: an object with geoId, name." in toolkit.describe()[0]


@tool
def fetch_page(url: str) -> dict:
    """Fetch a web page.

    Args:
        url: the page's address.

    Returns:
        title, text.
    """
    return {"title": "", "text": ""}


@tool
def read_mail(folder: str = "inbox", part: str = "body") -> dict:
    """Read the newest message.

    Args:
        folder: the mail folder, e.g. inbox.
        part: what to read: subject or body.

    Returns:
        sender (an address), subject, body.
    """
    return {}


def test_a_field_of_the_tools_own_result_written_as_its_input_is_named() -> None:
    kit = Toolkit([fetch_page, read_mail])
    found = problems('#E1 = fetch_page["text"]', kit)
    assert codes(found) == [("E1", "result_field_as_input")]
    assert found[0].message == ("'text' is a field of what fetch_page returns, not an input; fetch_page takes url "
                                "(the page's address). A later step can use a field as #E<n>.text")
    # with the address in it too, the caller finds the address: no repair round for that
    assert problems('#E1 = fetch_page["title", "https://shop.example.com/w"]', kit) == []
    assert problems("#E1 = fetch_page[https://shop.example.com/text]", kit) == []
    # a word an argument's description offers as a value is an input after all
    assert problems('#E1 = read_mail["inbox", "body"]', kit) == []
    assert codes(problems('#E1 = read_mail["sender"]', kit)) == [("E1", "result_field_as_input")]


def test_a_second_call_for_a_field_of_an_earlier_result_is_told_to_read_that_result() -> None:
    kit = Toolkit([fetch_page])
    plan = '#E1 = fetch_page["https://shop.example.com/w"]\n#E2 = fetch_page["text"]'
    found = problems(plan, kit)
    assert codes(found) == [("E2", "result_field_as_input")]
    assert found[0].message == ("'text' is a field of what fetch_page returns, not an input, and #E1 already holds "
                                "fetch_page's result: drop this step and write #E1.text in the step that needs it")


def test_a_literal_argument_beside_evidence_is_checked_against_its_type() -> None:
    @tool(side_effects=True)
    def post(url: Annotated[str, Field(pattern=r"^https?://")], data: str, retries: int = 0) -> dict:
        """Post data to a web address.

        Args:
            url: the address to post to.
            data: the text to send.
            retries: how often to try again.
        """
        return {}

    kit = Toolkit([fetch_page, post])
    found = problems('#E1 = fetch_page["https://a.example/x"]\n#E2 = post["notes", #E1.text]', kit)
    assert codes(found) == [("E2", "bad_input")]
    assert found[0].message.startswith("arguments for post do not fit its schema: url='notes': String should match")
    bad_count = problems('#E1 = fetch_page["https://a.example/x"]\n#E2 = post["https://b.example", #E1, retries="two"]', kit)
    assert "retries='two'" in bad_count[0].message
    assert problems('#E1 = fetch_page["https://a.example/x"]\n#E2 = post["https://b.example/n", #E1.text]', kit) == []


def test_an_input_that_does_not_fit_names_the_tool_the_step_describes() -> None:
    @tool
    def run_sql(statement: str, database: str) -> dict:
        """Run one SQL statement: INSERT a row into a table, or SELECT rows.

        Args:
            statement: the SQL statement.
            database: the database's name.
        """
        return {}

    @tool(side_effects=True)
    def post(url: Annotated[str, Field(pattern=r"^https?://")], data: str) -> dict:
        """Post data to a web address.

        Args:
            url: the address to post to.
            data: the text to send.
        """
        return {}

    kit = Toolkit([fetch_page, post, run_sql])
    text = 'Plan: Fetch it.\n#E1 = fetch_page["https://a.example/x"]\nPlan: Insert the text as a row into the notes table.\n#E2 = post["notes", #E1.text]'
    found = problems(text, kit)
    assert found[0].message.endswith("The step says 'Insert the text as a row into the notes table.': run_sql does that "
                                     "(Run one SQL statement: INSERT a row into a table, or SELECT rows.)")


def test_more_values_than_parameters_is_not_a_call_of_that_tool() -> None:
    @tool
    def post(url: str, data: str) -> dict:
        """Post data to a web address.

        Args:
            url: the address to post to.
            data: the text to send.
        """
        return {}

    kit = Toolkit([fetch_page, post])
    found = problems("#E1 = fetch_page[https://a.example/x]\n#E2 = post['notes', 'INSERT INTO notes', [#E1.text]]", kit)
    assert [p.message for p in found] == ["post takes 2 arguments (url, data), the step gives 3"]
    # free words are the caller's to read, however many commas they hold
    assert problems("#E1 = fetch_page[https://a.example/x]\n#E2 = post[to the API, the text, #E1]", kit) == []


def test_a_call_that_names_arguments_the_tool_lacks_says_which_it_takes() -> None:
    @tool
    def run_sql(sql: str, params: list[str] | None = None) -> dict:
        """Run one SQL statement.

        Args:
            sql: the statement, with ? for each value.
            params: the values for the ? marks.
        """
        return {}

    kit = Toolkit([fetch_page, run_sql])
    found = problems('#E1 = fetch_page[https://a.example/x]\n'
                     '#E2 = run_sql[sql="INSERT INTO notes (text) VALUES (?)", rows=[#E1.text]]', kit)
    assert [p.message for p in found] == [
        "run_sql has no argument rows; it takes sql (str), params (list[str] | None, optional)"]
    fixed = '#E1 = fetch_page[https://a.example/x]\n#E2 = run_sql[sql="INSERT INTO notes (text) VALUES (?)", '
    assert problems(fixed + "params=[#E1.text]]", kit) == []
    # words that only look like keywords (none is an argument) are the tool's one input
    assert problems("#E1 = run_sql[title=Heat]", kit) == []


def test_the_repair_round_makes_a_misfit_tool_take_its_own_keyword_arguments(toolkit: Toolkit) -> None:
    from foreplan.llm.scripted import ScriptedLLM
    from foreplan.plan.planner import Planner

    misfit = "Plan: convert\n#E1 = convert_currency[100, 'USD', 'EUR', 'today']"
    right = "Plan: convert\n#E1 = convert_currency[amount=100, currency='USD', target='EUR']"
    llm = ScriptedLLM([misfit, right])
    result = Planner(llm, toolkit).plan("100 dollars in euros")
    assert result.attempts == 2
    first, repair = (options.constraint.grammar for _, options in llm.calls)
    assert '"convert_currency["' not in first and "tool ::= " in first and '"convert_currency"' in first
    assert '"convert_currency[" "amount=" number1 ", currency=" text1 (", target=" text1)? "]"' in repair
    assert '"convert_currency"' not in repair.split("\n")[1]  # no longer free text: not in the tool rule
    everywhere = ScriptedLLM([right])
    Planner(everywhere, toolkit, keyword_arguments=True).plan("100 dollars in euros")
    assert '"convert_currency[" "amount="' in everywhere.calls[0][1].constraint.grammar
