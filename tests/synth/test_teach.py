"""Teacher-written planner data for a user's toolkit: only plans that validate and run
are kept, side effects never happen, every try is recorded, and a stopped run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foreplan import ScriptedLLM, Toolkit, tool
from foreplan.errors import DatasetError
from foreplan.synth.teach import Teacher, ToolkitBox, dry_run, examples, is_heldout, read_tries, teach

SENT: list[dict] = []


@tool
def lookup_order(order_id: str) -> dict:
    """Find an order in the shop's records.

    Args:
        order_id: the order number, e.g. A-1001.

    Returns:
        customer (an e-mail address), total, status.
    """
    return {"customer": "ann@example.com", "total": 42.5, "status": "shipped"}


@tool(side_effects=True, sensitive=["to"])
def send_email(to: str, subject: str, body: str) -> dict:
    """Send an e-mail.

    Args:
        to: the recipient's address.
        subject: the subject line.
        body: the text of the message.

    Returns:
        status, to.
    """
    SENT.append({"to": to})
    return {"status": "sent", "to": to}


def kit() -> Toolkit:
    return Toolkit([lookup_order, send_email])


def test_a_dry_run_checks_arguments_and_does_nothing() -> None:
    stand_in = dry_run(send_email)
    assert not stand_in.side_effects and dry_run(lookup_order) is lookup_order
    assert stand_in(to="a@example.com", subject="Hi", body="x") == {"status": "(status of a dry run of send_email)",
                                                                     "to": "(to of a dry run of send_email)"}
    assert SENT == []
    with pytest.raises(Exception, match="subject"):
        stand_in(to="a@example.com", body="x")


def _script(path: Path, seed: int = 0) -> ScriptedLLM:
    """Teacher replies for three tries: a task whose plan runs, one whose plan names no
    tool it was written for (kept out), and one whose plan fails at run time."""
    return ScriptedLLM([
        '{"request": "Email the status of order A-1001 to its customer with the subject \'Your order\'."}',
        "Plan: Find the order.\n#E1 = lookup_order[A-1001]\n"
        "Plan: Tell the customer.\n#E2 = send_email[to='ops@example.com', subject='Your order', body=#E1.status]",
        '{"request": "What does order B-7 cost in total?"}',
        "Plan: Find the order.\n#E1 = lookup_order[B-7]",
        '{"request": "Send bob@example.com the tracking number of order C-3 with the subject \'Hi\'."}',
        "Plan: Find the order.\n#E1 = lookup_order[C-3]\n"
        "Plan: Send it.\n#E2 = send_email[to='bob@example.com', subject='Hi', body=#E1.tracking]",
    ])


def test_only_plans_that_run_are_kept_and_every_try_says_why(tmp_path: Path) -> None:
    teacher = Teacher(_script(tmp_path), kit(), seed=0)
    teacher.focus = lambda index: [["send_email"], ["send_email"], ["send_email"]][index]  # fixed for the test
    tries = teach(teacher, want=5, path=tmp_path / "tries.jsonl", max_tries=3)
    assert [t.kept for t in tries] == [True, False, False]
    assert tries[0].used_tools == ["lookup_order", "send_email"] and tries[0].tools == ["lookup_order", "send_email"]
    assert tries[1].why == "the plan uses none of the tools the task was written for"
    assert tries[2].why.startswith("a step failed: #E2 error:") and "tracking" in tries[2].why
    assert SENT == []  # the side effect ran as a dry run
    assert [json.loads(line)["kept"] for line in (tmp_path / "tries.jsonl").read_text().splitlines()] == [True, False, False]


def test_a_stopped_run_resumes_after_its_last_whole_try(tmp_path: Path) -> None:
    path = tmp_path / "tries.jsonl"
    teacher = Teacher(_script(tmp_path), kit(), seed=0)
    teacher.focus = lambda index: ["send_email"]
    teach(teacher, want=1, path=path, max_tries=3)
    assert len(read_tries(path)) == 1
    with path.open("a") as f:
        f.write('{"id": "teach-0-1", "task": "cut o')  # killed mid-line
    again = ScriptedLLM(['{"request": "What does order B-7 cost in total?"}',
                         "Plan: Find the order.\n#E1 = lookup_order[B-7]"])
    resumed = Teacher(again, kit(), seed=0)
    resumed.focus = lambda index: ["lookup_order"]
    tries = teach(resumed, want=2, path=path, max_tries=5)
    assert [t.id for t in tries] == ["teach-0-0", "teach-0-1"] and all(t.kept for t in tries)
    assert again.remaining == 0
    assert "Reply with a JSON object" in again.calls[0][0][0]["content"]


def test_an_edited_tries_file_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "tries.jsonl"
    path.write_text('not json\n{"id": "x"}\n')
    with pytest.raises(DatasetError, match="tries.jsonl:1 is not a try"):
        read_tries(path)
    assert path.read_text() == 'not json\n{"id": "x"}\n'


def test_train_rows_carry_the_agents_prompt_and_held_out_rows_the_reference(tmp_path: Path) -> None:
    teacher = Teacher(_script(tmp_path), kit(), seed=0)
    teacher.focus = lambda index: ["send_email"]
    tries = teach(teacher, want=1, path=tmp_path / "tries.jsonl", max_tries=1)
    train, heldout = examples(tries, kit(), heldout_share=0.0, seed=0)
    assert heldout == [] and len(train) == 1
    assert train[0]["instruction"].rstrip().endswith(f"Task: {tries[0].task}")
    assert train[0]["output"].startswith("Plan: Find the order.\n#E1 = lookup_order[A-1001]")
    train, heldout = examples(tries, kit(), heldout_share=1.0, seed=0)
    assert train == [] and heldout[0]["reference_tools"] == ["lookup_order", "send_email"]
    assert ToolkitBox(kit()).toolkit(heldout[0]["tools"]).get("send_email").side_effects is False


def test_the_split_is_a_fixed_function_of_the_task() -> None:
    tasks = [f"Look up order A-{n} and email its customer." for n in range(400)]
    sides = [is_heldout(t, 0.2, seed=0) for t in tasks]
    assert sides == [is_heldout(t.upper(), 0.2, seed=0) for t in tasks]  # case and spacing do not move a task
    assert 0.12 < sum(sides) / len(sides) < 0.28
    assert sides != [is_heldout(t, 0.2, seed=1) for t in tasks]


def test_a_reply_that_is_not_a_request_is_dropped_without_planning(tmp_path: Path) -> None:
    teacher = Teacher(ScriptedLLM(["Sure! Here is a request:", '{"request": "hi"}']), kit(), seed=0)
    tries = teach(teacher, want=1, path=tmp_path / "tries.jsonl", max_tries=2)
    assert [t.why for t in tries] == ["the teacher wrote no task"] * 2  # and no plan was asked for
