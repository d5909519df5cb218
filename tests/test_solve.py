"""The solver's prompt: each step's plan beside its evidence, failures marked, and a
side-effect step shown with the arguments it was actually called with."""

from __future__ import annotations

from foreplan.llm.scripted import ScriptedLLM
from foreplan.plan.parse import parse_plan
from foreplan.solve import Solver
from foreplan.types import Evidence, Status

PLAN = parse_plan("Plan: read\n#E1 = read_inbox[inbox]\nPlan: forward\n"
                  "#E2 = send_email[to='bob@example.com', subject='FYI', body=#E1.body]")


def _prompt(evidence: dict[str, Evidence]) -> str:
    return Solver(ScriptedLLM([])).prompt("Forward the newest mail to Bob.", PLAN, evidence)[0]["content"]


def test_a_side_effect_step_shows_what_was_actually_done():
    body = "Team offsite. " + "x" * 300
    prompt = _prompt({
        "E1": Evidence("E1", Status.OK, {"body": body}),
        "E2": Evidence("E2", Status.OK, {"status": "sent"}, side_effect=True,
                       arguments={"to": "bob@example.com", "subject": "FYI", "body": body}),
    })
    assert "Evidence (#E2, send_email, final result): send_email was called with to='bob@example.com', subject='FYI', " in prompt
    assert f"({len(body)} characters)" in prompt and 'returned: {"status": "sent"}' in prompt


def test_a_refused_or_failed_step_is_marked_missing():
    prompt = _prompt({
        "E1": Evidence("E1", Status.OK, {"body": "b"}),
        "E2": Evidence("E2", Status.ERROR, error="refused: send_email has side effects and ...", side_effect=True),
    })
    assert "Evidence (#E2, send_email): [error] refused: send_email has side effects" in prompt


def test_a_step_that_never_ran_is_marked_skipped():
    assert "Evidence (#E2, send_email): [skipped] not run" in _prompt({"E1": Evidence("E1", Status.OK, "x")})


CHAIN = parse_plan("Plan: multiply\n#E1 = calculator[37 * 41]\nPlan: subtract\n#E2 = calculator[#E1 - 517]")
CHAIN_EVIDENCE = {"E1": Evidence("E1", Status.OK, 1517), "E2": Evidence("E2", Status.OK, 1000)}
TASK = "What is 37 times 41? Then subtract 517 from that result."


def test_an_answer_that_follows_the_evidence_is_kept():
    llm = ScriptedLLM(["1,000"])
    assert Solver(llm).solve(TASK, CHAIN, CHAIN_EVIDENCE).text == "1,000" and llm.remaining == 0


def test_an_invented_number_is_named_and_asked_again_once():
    llm = ScriptedLLM(["257", "1000"])
    answer = Solver(llm).solve(TASK, CHAIN, CHAIN_EVIDENCE)

    assert answer.text == "1000"
    retry = llm.calls[1][0]
    assert retry[-2] == {"role": "assistant", "content": "257"}
    assert retry[-1]["content"].startswith("Your answer gives 257, which is in neither the task nor the evidence.")


def test_a_second_invention_falls_back_to_the_last_evidence_and_says_so():
    answer = Solver(ScriptedLLM(["257", "It is 999."])).solve(TASK, CHAIN, CHAIN_EVIDENCE)

    assert answer.finish_reason == "fallback"
    assert answer.text == ("1000 (the calculator step's result; the solver's own answer was not used: it gave a "
                           "number that is in neither the task nor the evidence)")


def test_an_empty_answer_is_asked_again():
    assert Solver(ScriptedLLM(["  ", "1000"])).solve(TASK, CHAIN, CHAIN_EVIDENCE).text == "1000"


def test_rounded_and_formatted_numbers_count_as_supported():
    from foreplan.solve import invented_numbers, numbers_in

    known = numbers_in("pi is 3.14159 and the total is 1234567; on 2026-11-25")
    assert invented_numbers("about 3.14, total 1,234,567 on 2026-11-25", known) == []
    assert invented_numbers("3.141 or 3.142", known) == []  # cut or rounded
    assert invented_numbers("3.15 and 12", known) == ["3.15", "12"]
    assert invented_numbers("the 1990s, E1 and #E2", known) == []  # words and step names are no numbers


def test_one_arithmetic_step_on_the_results_is_supported_and_no_more():
    from foreplan.solve import invented_numbers, supported_numbers

    plan = parse_plan("#E1 = get_current_time[UTC]\n#E2 = calculator[365 - #E1.day_of_year]")
    evidence = {"E1": Evidence("E1", Status.OK, {"day_of_year": 338}), "E2": Evidence("E2", Status.OK, 27)}
    known = supported_numbers("How many days are left this year, and that number squared?", plan, evidence)
    assert invented_numbers("27 days; squared, 729", known) == []
    assert invented_numbers("27 days, 27^2 = 729", known) == []  # an exponent is an operator, not a value
    assert invented_numbers("27 days; squared, 730", known) == ["730"]
    # the case: 257 is no single step on the results 1517 and 1000
    chain = supported_numbers(TASK, CHAIN, CHAIN_EVIDENCE)
    assert invented_numbers("257", chain) == ["257"]
    assert invented_numbers("2517", chain) == []  # 1517 + 1000: two results combined
    # With only #E2's 1000, 1517 is no longer supported: 1000 + 517 would redo the task's arithmetic.
    assert invented_numbers("1517", supported_numbers(TASK, CHAIN, {"E2": CHAIN_EVIDENCE["E2"]})) == ["1517"]



def test_the_results_no_later_step_builds_on_are_marked_final():
    prompt = Solver(ScriptedLLM([])).prompt(TASK, CHAIN, CHAIN_EVIDENCE)[0]["content"]
    assert "Evidence (#E1, calculator): 1517" in prompt
    assert "Evidence (#E2, calculator, final result): 1000" in prompt


def test_an_intermediate_result_instead_of_the_final_one_is_asked_again():
    llm = ScriptedLLM(["1517", "1000"])
    assert Solver(llm).solve(TASK, CHAIN, CHAIN_EVIDENCE).text == "1000"
    assert llm.calls[1][0][-1]["content"].startswith(
        "Your answer gives the result of #E1, which a later step builds on, and not the final result (#E2).")
    # stating the final result too is fine; so is a plan whose final result is text
    assert Solver(ScriptedLLM(["1517, minus 517: 1000"])).solve(TASK, CHAIN, CHAIN_EVIDENCE).text.endswith("1000")
    texts = {"E1": CHAIN_EVIDENCE["E1"], "E2": Evidence("E2", Status.OK, "one thousand")}
    assert Solver(ScriptedLLM(["1517"])).solve(TASK, CHAIN, texts).text == "1517"



def test_a_task_number_the_plan_left_unused_may_be_applied_to_a_result_once():
    from foreplan.solve import invented_numbers, supported_numbers

    task = "Convert 7 kg to pounds, then add 4 pounds."
    plan = parse_plan("Plan: convert\n#E1 = convert_units[7, kg, lb]")
    evidence = {"E1": Evidence("E1", Status.OK, 15.4324)}
    assert invented_numbers("15.4324 + 4 = 19.4324", supported_numbers(task, plan, evidence)) == []
    # 0.75 is in the plan's input: adding it to the result again is redoing the plan's arithmetic
    plan = parse_plan("Plan: all of it\n#E1 = calculator[12.5 * 8 + 0.75]")
    known = supported_numbers("What is 12.5 times 8, plus 0.75?", plan, {"E1": Evidence("E1", Status.OK, 100.75)})
    assert invented_numbers("101.5", known) == ["101.5"]


def test_a_text_result_a_later_step_builds_on_may_be_the_answer():
    # multi-hop QA: the bridge entity (#E2) answers "who was known as Aladin"; #E4 adds a detail
    plan = parse_plan("Plan: name\n#E2 = LLM[stage name?]\nPlan: role\n#E4 = LLM[role of #E2?]")
    evidence = {"E2": Evidence("E2", Status.OK, "Eenasul Fateh"), "E4": Evidence("E4", Status.OK, "Consultant")}
    assert Solver(ScriptedLLM(["Eenasul Fateh"])).solve("Who was known as Aladin?", plan, evidence).text == "Eenasul Fateh"


def test_the_plans_step_numbers_are_no_support_for_an_answer():
    from foreplan.solve import invented_numbers, supported_numbers

    plan = parse_plan("Plan: 1. Count.\n#E1 = count_letter[text='otter', letter='t']")
    known = supported_numbers("How many t are in 'otter'?", plan, {"E1": Evidence("E1", Status.OK, 2)})
    assert invented_numbers("1", known) == ["1"] and invented_numbers("2", known) == []


def test_results_of_one_tool_are_written_out_in_order():
    plan = parse_plan("Plan: desk\n#E1 = item_price[desk]\nPlan: backpack\n#E2 = item_price[backpack]\n"
                      "Plan: mug\n#E3 = item_price[mug]\nPlan: sum\n#E4 = calculator[#E1 + #E2]")
    evidence = {"E1": Evidence("E1", Status.OK, 59.9), "E2": Evidence("E2", Status.OK, 249.0),
                "E3": Evidence("E3", Status.OK, 59.9), "E4": Evidence("E4", Status.OK, 308.9)}
    prompt = Solver(ScriptedLLM([])).prompt("Which costs more, a desk or a backpack?", plan, evidence)[0]["content"]
    assert "Results of the same tool, largest first:\nitem_price: #E2 249.0 > #E1 59.9 = #E3 59.9\n" in prompt
    assert "calculator:" not in prompt  # one result of a tool compares with nothing
    failed = {**evidence, "E2": Evidence("E2", Status.ERROR, error="no such item")}
    prompt = Solver(ScriptedLLM([])).prompt("Which costs more?", plan, failed)[0]["content"]
    assert "item_price: #E1 59.9 = #E3 59.9" in prompt and "249" not in prompt.split("largest first")[1]
    assert "largest first" not in _prompt({"E1": Evidence("E1", Status.OK, {"body": "b"})})


def test_long_evidence_keeps_the_sentences_the_task_and_step_ask_about():
    filler = " ".join(f"Line {i} is about bread." for i in range(300))
    plan = parse_plan("Plan: Find the director of Jaws.\n#E1 = search[Jaws]")
    evidence = {"E1": Evidence("E1", Status.OK, [{"title": "Jaws", "text": f"{filler} Jaws was directed by "
                                                                          f"Steven Spielberg. {filler}"}])}
    for chars in (2000, 600):
        prompt = Solver(ScriptedLLM([]), evidence_chars=chars).prompt("Who directed Jaws?", plan, evidence)
        assert "Jaws was directed by Steven Spielberg." in prompt[0]["content"]
        assert len(prompt[0]["content"]) < chars + 1200


def test_evidence_a_later_step_read_gets_its_own_budget_and_final_results_stay_whole():
    plan = parse_plan("Plan: Search.\n#E1 = search[Jaws]\nPlan: Name the director.\n#E2 = LLM[Who directed Jaws? #E1]")
    page, answer = "Jaws is a 1975 film. " * 100, "Steven Spielberg, " * 60
    evidence = {"E1": Evidence("E1", Status.OK, page), "E2": Evidence("E2", Status.OK, answer)}
    whole = Solver(ScriptedLLM([])).prompt("Who directed Jaws?", plan, evidence)[0]["content"]
    cut = Solver(ScriptedLLM([]), used_evidence_chars=300).prompt("Who directed Jaws?", plan, evidence)[0]["content"]
    assert f"[{len(page) - 2000} more characters cut]" in whole
    assert f"[{len(page) - 300} more characters cut]" in cut
    assert answer.strip() in cut  # E2: nothing builds on it, so it is read whole
