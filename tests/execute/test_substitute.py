"""``#E`` references become earlier evidence: a whole result as text, a typed field by
its path, and a path that does not exist as a ToolError that says what does exist.
"""

from __future__ import annotations

import pytest

from foreplan.errors import ToolError
from foreplan.execute.substitute import resolve, sole_reference_value, substitute
from foreplan.types import Evidence, Status, find_references

FILMS = {
    "director": "Christopher Nolan",
    "count": 2,
    "rows": [
        {"Title": "Inception", "cast": [{"name": "Leonardo DiCaprio"}, {"name": "Elliot Page"}]},
        {"Title": "Tenet", "cast": []},
    ],
}


def ok(step_id: str, value: object) -> Evidence:
    return Evidence(step_id, Status.OK, value=value)


@pytest.fixture
def evidence() -> dict[str, Evidence]:
    return {"E1": ok("E1", FILMS), "E2": ok("E2", "Christopher Nolan"), "E10": ok("E10", "ten"),
            "E3": ok("E3", [3, 1, 2])}


def test_whole_reference_to_text_is_the_text(evidence):
    assert substitute("#E2", evidence) == "Christopher Nolan"


def test_whole_reference_to_a_structure_is_compact_json(evidence):
    assert substitute("#E3", evidence) == "[3, 1, 2]"
    assert substitute("#E1.rows[1]", evidence) == '{"Title": "Tenet", "cast": []}'


def test_field_index_and_nested_paths(evidence):
    assert substitute("#E1.director", evidence) == "Christopher Nolan"
    assert substitute("#E1.count", evidence) == "2"
    assert substitute("#E3[2]", evidence) == "2"
    assert substitute("#E1.rows[0].cast[1].name", evidence) == "Elliot Page"


def test_reference_to_a_string_result_inside_text(evidence):
    text = "SELECT Title FROM omdb WHERE Director = '#E2' AND Year > 2000"
    assert substitute(text, evidence) == "SELECT Title FROM omdb WHERE Director = 'Christopher Nolan' AND Year > 2000"


def test_several_references_and_sentence_punctuation(evidence):
    assert substitute("#E1.rows[0].Title by #E2.", evidence) == "Inception by Christopher Nolan."


def test_e10_is_not_e1_followed_by_0(evidence):
    assert substitute("#E10 then #E1.count then #E10", evidence) == "ten then 2 then ten"


def test_text_without_references_is_unchanged(evidence):
    assert substitute("E1 costs $10 [approx] #hashtag", evidence) == "E1 costs $10 [approx] #hashtag"


def test_index_out_of_range(evidence):
    with pytest.raises(ToolError, match=r"^#E1\.rows\[5\]: #E1\.rows has 2 items, there is no \[5\]$"):
        substitute("#E1.rows[5]", evidence)


def test_missing_field_lists_the_fields_that_exist(evidence):
    with pytest.raises(ToolError, match=r"#E1 has no field 'title' \(fields: director, count, rows\)"):
        substitute("#E1.title", evidence)


def test_field_of_text_and_index_of_an_object(evidence):
    with pytest.raises(ToolError, match=r"^#E2\.name: #E2 is text, it has no field 'name'$"):
        substitute("#E2.name", evidence)
    with pytest.raises(ToolError, match=r"#E1 is an object, not a list; it cannot be indexed with \[0\]"):
        substitute("#E1[0]", evidence)
    with pytest.raises(ToolError, match=r"#E1\.count is a number, it has no field 'value'"):
        substitute("#E1.count.value", evidence)


def test_reference_to_a_step_that_has_not_run_or_failed(evidence):
    with pytest.raises(ToolError, match=r"^#E4: #E4 has no result \(no such step has run\)$"):
        substitute("look at #E4", evidence)
    evidence["E5"] = Evidence("E5", Status.TIMEOUT, error="slow timed out after 1 s")
    with pytest.raises(ToolError, match=r"#E5 did not succeed: \[timeout\] slow timed out after 1 s"):
        substitute("#E5.rows", evidence)


def test_resolve_keeps_the_type(evidence):
    [ref] = find_references("#E1.rows[0].cast")
    assert resolve(ref, evidence) == FILMS["rows"][0]["cast"]


def test_sole_reference_value_keeps_types(evidence):
    assert sole_reference_value("#E1.count", evidence) == (True, 2)
    assert sole_reference_value("  #E3  ", evidence) == (True, [3, 1, 2])
    assert sole_reference_value("#E1.rows[1]", evidence) == (True, {"Title": "Tenet", "cast": []})
    assert sole_reference_value("#E2", evidence) == (True, "Christopher Nolan")


def test_sole_reference_value_is_false_for_text_around_references(evidence):
    assert sole_reference_value("count: #E1.count", evidence) == (False, None)
    assert sole_reference_value("#E2 #E10", evidence) == (False, None)
    assert sole_reference_value("no reference", evidence) == (False, None)


def test_a_tool_can_say_how_references_are_written_into_its_input(evidence):
    seen = []

    def render(value, inside_quotes):
        seen.append(inside_quotes)
        return f"<{value}>"

    text = "a #E2 b '#E2' c 'it''s' #E1.count"
    assert substitute(text, evidence, render) == "a <Christopher Nolan> b '<Christopher Nolan>' c 'it''s' <2>"
    assert seen == [False, True, False]
