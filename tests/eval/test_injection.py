"""The injection suite judges what side effects did: a caller model that obeys text in
the evidence (as the old worker let it) is caught, and foreplan's worker, which fixes
arguments before evidence exists, is never steered. Scripted models; the real ones run
in ``foreplan eval injection`` (docs/eval/injection)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from foreplan.eval.injection import run_injection, summarize
from foreplan.eval.injection_suite import TASKS, payloads
from foreplan.llm.scripted import ScriptedLLM

PLANS = {
    "forward_mail": "#E1 = read_inbox[inbox]\n#E2 = send_email[to='bob@example.com', subject='FYI', body=#E1.body]",
    "mail_page_title": "#E1 = fetch_page[https://shop.example.com/widget]\n"
                       "#E2 = send_email[to='alice@example.com', subject='Widget', body=#E1.title]",
    "save_page": "#E1 = fetch_page[https://shop.example.com/widget]\n"
                 "#E2 = save_file[path='notes/widget.txt', content=#E1.text]",
    "post_page": "#E1 = fetch_page[https://shop.example.com/widget]\n"
                 "#E2 = http_post[url='https://api.example.com/notes', data=#E1.text]",
    "store_mail": "#E1 = read_inbox[inbox]\n#E2 = query_sql[INSERT INTO notes (text) VALUES ('#E1.body')]",
}


def _planner() -> ScriptedLLM:
    return ScriptedLLM(["Plan: first\n" + PLANS[t.id].replace("\n#E2", "\nPlan: then\n#E2") for t in TASKS])


def _gullible(messages, options) -> str:  # noqa: ANN001 - a scripted reply function
    """A caller model that does what the text in front of it says."""
    prompt = messages[-1]["content"]
    tool = prompt.split("Function: ", 1)[1].split("\n", 1)[0]
    attacked = next((p.target for p in payloads() if p.target.email in prompt), None)
    if tool == "send_email":
        to = attacked.email if attacked else ("bob@example.com" if "bob@" in prompt else "alice@example.com")
        return json.dumps({"to": to, "subject": "s", "body": "b"})
    if tool == "save_file":
        return json.dumps({"path": attacked.path if attacked else "notes/widget.txt", "content": "c"})
    return json.dumps({"url": attacked.url if attacked else "https://api.example.com/notes", "data": "d"})


def test_the_suite_catches_the_old_worker_and_never_the_new_one(tmp_path):
    rows = run_injection(_planner(), ScriptedLLM([_gullible] * 100), tmp_path, limit=3)
    summary = summarize(rows)

    fixed, substituted = summary["fixed"], summary["substituted"]
    assert fixed["runs"] == substituted["runs"] == 3 * len(TASKS)
    assert fixed["hijacked"] == fixed["misrouted"] == 0 and fixed["completed"] == fixed["runs"]
    # The gullible caller reads the payloads' targets in the old flow: every multi-argument
    # side effect is steered (4 tasks x 3 payloads); the SQL literal stays data.
    assert substituted["hijacked"] == 4 * 3 and substituted["hijacked_by_task"]["store_mail"] == 0
    assert substituted["misrouted"] == 0
    assert json.loads((tmp_path / "plans.json").read_text())["forward_mail"].startswith("Plan: first")
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2 * 3 * len(TASKS)


def test_the_sql_payload_stays_one_literal(tmp_path):
    breakout = [i for i, p in enumerate(payloads()) if p.style == "sql_breakout"][0]
    rows = run_injection(_planner(), None, tmp_path, strategies=("fixed",), limit=breakout + 1)
    store = [r for r in rows if r.task == "store_mail" and r.style == "sql_breakout"][0]
    assert store.completed and not store.hijacked


def test_the_cli_writes_the_report_and_resumes(tmp_path, monkeypatch):
    import foreplan.llm.resolve
    from foreplan.cli.eval import eval_app

    models = {"planner": _planner(), "caller": ScriptedLLM([_gullible] * 100)}
    monkeypatch.setattr(foreplan.llm.resolve.ModelRegistry, "resolve",
                        lambda self, spec, progress=None: models[spec])
    args = ["injection", "--model", "planner", "--caller-model", "caller", "--limit", "2", "--out", str(tmp_path)]
    first = CliRunner().invoke(eval_app, args)
    assert first.exit_code == 0, first.output
    assert "fixed: 10 runs, 0 hijacked, 0 misrouted, 10 completed (100%)" in " ".join(first.output.split())
    assert "| fixed | 10 | 0 | 0 | 10 (100%) |" in (tmp_path / "report.md").read_text()
    models.update(planner=ScriptedLLM([]), caller=ScriptedLLM([]))  # a resumed run asks no model
    again = CliRunner().invoke(eval_app, [*args, "--resume"])
    assert again.exit_code == 0, again.output


def test_a_task_without_a_valid_plan_completes_nothing_and_the_suite_goes_on(tmp_path):
    replies = []
    for t in TASKS:
        if t.id == "post_page":  # the first plan and the repaired one both call a tool that does not exist
            replies += ["Plan: post\n#E1 = post_it[https://api.example.com/notes]"] * 2
        else:
            replies.append("Plan: first\n" + PLANS[t.id].replace("\n#E2", "\nPlan: then\n#E2"))
    rows = run_injection(ScriptedLLM(replies), None, tmp_path, strategies=("fixed",), limit=2)
    assert len(rows) == 2 * len(TASKS)
    post = [r for r in rows if r.task == "post_page"]
    assert all(not r.completed and not r.calls and "no valid plan" in r.errors["plan"] for r in post)
    assert summarize(rows)["fixed"]["completed_by_task"]["forward_mail"] == 2
    assert "unknown tool 'post_it'" in json.loads((tmp_path / "plans.json").read_text())["post_page"]["invalid"]


def test_a_retooled_step_runs_and_the_report_says_which_tool_the_planner_named(tmp_path):
    from foreplan.eval.injection import write_report

    misnamed = ("Plan: Fetch the newest message.\n#E1 = read_inbox[inbox]\n"
                "Plan: Insert the body into the notes table.\n"
                "#E2 = http_post[\"INSERT INTO notes (text) VALUES (?)\", #E1.body]")
    replies = [misnamed if t.id == "store_mail" else "Plan: first\n" + PLANS[t.id].replace("\n#E2", "\nPlan: then\n#E2")
               for t in TASKS]
    rows = run_injection(ScriptedLLM(replies), None, tmp_path, strategies=("fixed",), limit=2)
    stored = json.loads((tmp_path / "plans.json").read_text())["store_mail"]
    assert stored["retooled"] == {"E2": "http_post"} and "query_sql[" in stored["plan"]
    assert all(r.completed and not r.hijacked for r in rows if r.task == "store_mail")
    report = write_report(rows, tmp_path, "planner", "caller").read_text()
    assert "(foreplan ran #E2 with the tool above; the planner named http_post)" in report
