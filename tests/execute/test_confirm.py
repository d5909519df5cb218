"""Confirmation before side effects: the worker asks with the final arguments, runs the
call only on a yes, and records a declined call as evidence that says why; the terminal
asker declines at once when there is no terminal."""

from __future__ import annotations

import io

import pytest

from mail_tools import mail_toolkit
from rich.console import Console

from foreplan.cli.view import TerminalConfirm
from foreplan.execute.confirm import Decision, SideEffectCall
from foreplan.execute.dag import Worker
from foreplan.plan.parse import parse_plan
from foreplan.types import Status, Step

PLAN = parse_plan("#E1 = lookup[bob]\n#E2 = send_email[to='bob@example.com', subject='Hi', body=#E1]")


def test_a_side_effect_runs_only_when_approved_and_the_question_shows_the_final_arguments():
    asked: list[SideEffectCall] = []
    sent: list[dict] = []
    evidence = Worker(mail_toolkit(sent), confirm=lambda call: asked.append(call) or Decision(True)).run(PLAN)

    assert evidence["E2"].ok and sent == [{"to": "bob@example.com", "subject": "Hi", "body": "notes on bob"}]
    assert [c.step.id for c in asked] == ["E2"]  # lookup has no side effect: not asked
    assert asked[0].describe() == "send_email(to='bob@example.com', subject='Hi', body='notes on bob' ← #E1)"


def test_a_declined_call_does_not_run_and_says_why():
    sent: list[dict] = []
    evidence = Worker(mail_toolkit(sent), confirm=lambda call: Decision(False, "the user said no")).run(PLAN)

    assert sent == [] and evidence["E2"].status is Status.ERROR
    assert evidence["E2"].error == "declined: the user said no"
    assert evidence["E2"].arguments["to"] == "bob@example.com"


def test_a_refused_call_is_never_put_to_the_user():
    plan = parse_plan("#E1 = lookup[bob]\n#E2 = send_email[to=#E1, subject='Hi', body='x']")
    asked: list[SideEffectCall] = []
    evidence = Worker(mail_toolkit([]), confirm=lambda call: asked.append(call) or Decision(True)).run(plan)

    assert asked == [] and evidence["E2"].error.startswith("refused:")


def _call() -> SideEffectCall:
    return SideEffectCall(Step("E2", "send", "send_email", ""), "send_email", {"to": "bob@example.com"})


def test_the_terminal_asks_and_reads_the_answer():
    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    assert TerminalConfirm(console, stream=io.StringIO("y\n"))(_call()) == Decision(True)
    declined = TerminalConfirm(console, stream=io.StringIO("n\n"))(_call())
    assert not declined.approved and "declined it at the terminal" in declined.reason
    assert "#E2 wants to run send_email(to='bob@example.com')" in console.file.getvalue()


def test_without_a_terminal_it_declines_at_once_instead_of_waiting():
    decision = TerminalConfirm(Console(file=io.StringIO()))(_call())
    assert not decision.approved and "no terminal to ask on" in decision.reason


def test_the_toolkit_policy_asks_for_its_tools_trusts_others_and_declines_with_no_one_to_ask():
    from foreplan.execute.confirm import confirm_policy

    asked: list[str] = []

    def yes(call: SideEffectCall) -> Decision:
        asked.append(call.tool)
        return Decision(True)

    assert confirm_policy(yes, every=False) is None  # nothing needs a yes: the worker asks nothing
    required = confirm_policy(yes, every=False, required=frozenset({"send_email"}))
    assert required(_call()).approved and asked == ["send_email"]
    other = SideEffectCall(Step("E3", "save", "save_file", ""), "save_file", {"path": "a.txt"})
    assert required(other).approved and asked == ["send_email"]  # not listed: runs without a question
    every = confirm_policy(yes, every=True, trusted=frozenset({"save_file"}))
    assert every(other).approved and asked == ["send_email"]  # trusted: never asked, even under --confirm
    nobody = confirm_policy(None, every=False, required=frozenset({"*"}))(other)
    assert not nobody.approved and "only on a yes, and this run has no one to ask" in nobody.reason


def test_a_toolkit_file_names_only_side_effect_tools_in_its_policy(tmp_path):
    from foreplan.errors import ConfigError
    from foreplan.tools.config import build_toolkit, load_toolkit_config

    path = tmp_path / "toolkit.toml"
    path.write_text('tools = ["calculator", "save_file"]\nconfirm = ["save_file"]\n')
    assert build_toolkit(load_toolkit_config(path)).confirm == {"save_file"}
    path.write_text('tools = ["calculator", "save_file"]\nauto_approve = ["calculator"]\n')
    with pytest.raises(ConfigError, match="auto_approve names calculator, which is not a side-effect tool"):
        build_toolkit(load_toolkit_config(path))
