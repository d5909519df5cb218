"""The web page at ``/``, end to end in a real headless browser.

Debian's ``chromium`` (installed with apt-get when missing, like tests/tools/mariadb.py
installs mariadb-server) is driven by Playwright; Playwright's own browser download is
not used. The server is uvicorn in a thread on 127.0.0.1 with ScriptedLLMs and a
toolkit whose ``lookup`` sleeps a second, so two steps are seen running at once, and
whose ``broken`` raises, so its dependant is skipped.

    #E1 lookup[alpha] ──► #E3 broken[#E1] ──► #E4 lookup[#E2 with #E3]
    #E2 lookup[beta] ──────────────────────────┘
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from foreplan import ScriptedLLM
from foreplan.tools import Toolkit, default_toolkit, tool

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
expect = sync_api.expect

pytestmark = pytest.mark.server
CHROMIUM = "/usr/bin/chromium"
PLAN = """Plan: Look up the first topic.
#E1 = lookup[alpha]
Plan: Look up the second topic at the same time.
#E2 = lookup[beta]
Plan: Check the first finding in the archive.
#E3 = broken[#E1]
Plan: Put the second finding and the check together.
#E4 = lookup[#E2 with #E3]
"""
ANSWER = "Alpha and beta are known; the archive check failed."
REPLAN = "Plan: Look the first finding up again instead of checking the archive.\n#E5 = lookup[#E1]\n"


@tool
def lookup(topic: str) -> str:
    """Look a topic up, slowly (a second), like a web search.

    Args:
        topic: What to look up.
    """
    time.sleep(1.0)
    return f"facts about {topic}"


@tool
def broken(text: str) -> str:
    """Check a finding in an archive that is always offline.

    Args:
        text: The finding to check.
    """
    raise RuntimeError("the archive is offline")


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"{CHROMIUM} is missing and apt-get (as root) is not available to install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                   check=True, capture_output=True, env=env, timeout=600)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=_chromium(), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def serve_live(live) -> Callable[..., str]:
    """``serve_live(llms, toolkits, **settings)`` → the page's URL on conftest's live server."""
    return lambda *args, **kwargs: live(*args, **kwargs) + "/"


def _node(page: Any, step: str) -> Any:
    return page.locator(f'.node[data-step="{step}"]')


def test_a_run_draws_its_plan_and_the_steps_change_state_live(serve_live, page, tmp_path) -> None:
    url = serve_live({"planner": ScriptedLLM([PLAN, REPLAN]), "solver": ScriptedLLM([ANSWER])},
                     toolkits={"default": default_toolkit(), "slow": Toolkit([lookup, broken])})
    page.goto(url)
    expect(page.locator("#toolkit option")).to_have_count(2)
    page.select_option("#toolkit", "slow")
    page.fill("#instruction", "What do we know about alpha and beta?")
    page.click("#run")

    expect(page.locator(".node")).to_have_count(4)
    expect(page.locator(".edge")).to_have_count(3)  # E1→E3, E2→E4, E3→E4
    # E1 and E2 both sleep a second in parallel: the page must show them running together.
    page.wait_for_function("document.querySelectorAll('.node[data-state=running]').length >= 2")
    assert "running" in _node(page, "E1").locator(".status").text_content()

    expect(page.locator("#answer")).to_have_text(ANSWER)
    expect(page.locator(".node")).to_have_count(5)  # the replan's step joined the graph, after E1
    expect(page.locator(".edge")).to_have_count(4)
    expect(_node(page, "E5")).to_have_attribute("data-state", "done")
    expect(_node(page, "E1")).to_have_attribute("data-state", "done")
    expect(_node(page, "E2")).to_have_attribute("data-state", "done")
    expect(_node(page, "E3")).to_have_attribute("data-state", "failed")
    expect(_node(page, "E4")).to_have_attribute("data-state", "skipped")
    expect(page.locator("#usage")).to_contain_text("planner")
    expect(page.locator("#usage")).to_contain_text("seconds")  # timings per role
    expect(page.locator("#timings")).to_contain_text("total")
    expect(page.locator("#error")).to_be_hidden()

    _node(page, "E3").click()
    details = page.locator("#details")
    expect(details).to_contain_text("Check the first finding in the archive.")
    expect(details).to_contain_text("facts about alpha")  # the input after substitution
    expect(details).to_contain_text("the archive is offline")
    _node(page, "E5").click()
    expect(details).to_contain_text("Round2: a replan, because #E3 (broken) failed")
    _node(page, "E2").click()
    expect(details).to_contain_text("facts about beta")
    page.screenshot(path=str(tmp_path / "web-page.png"), full_page=True)

    # The run is listed and reopens from GET /v1/agent/runs/{id}.
    expect(page.locator("#runs li")).to_have_count(1)
    page.reload()
    expect(page.locator(".node")).to_have_count(0)
    page.locator("#runs li").first.click()
    expect(_node(page, "E4")).to_have_attribute("data-state", "skipped")
    expect(page.locator("#answer")).to_have_text(ANSWER)
    assert (tmp_path / "web-page.png").stat().st_size > 0


def test_errors_are_sentences_not_json(serve_live, page) -> None:
    release = threading.Event()

    def held(messages, options) -> str:
        release.wait(20)  # the run keeps its place in the planner's queue until the test is done
        return "done"

    planner = ScriptedLLM(["no plan here", "still no plan", "Plan: Square seven.\n#E1 = calculator[7^2]\n"])
    url = serve_live({"planner": planner, "solver": ScriptedLLM([held])}, api_keys=["sekrit"],
                     queue_size=0)  # one run at a time: a second one is refused with 429
    try:
        _check_errors(page, url)
    finally:
        release.set()


def _check_errors(page: Any, url: str) -> None:
    page.goto(url)
    error = page.locator("#error")
    expect(error).to_contain_text("needs a valid API key")
    assert "{" not in error.text_content()

    page.fill("#api-key", "sekrit")
    page.dispatch_event("#api-key", "change")
    expect(error).to_be_hidden()
    page.fill("#instruction", "Plan something impossible.")
    page.click("#run")
    expect(error).to_contain_text("The planner could not produce a valid plan.")
    assert "{" not in error.text_content()

    page.click("#run")  # this run holds the only place in the queue
    expect(_node(page, "E1")).to_have_attribute("data-state", "done")
    page.evaluate("document.getElementById('run').disabled = false")  # as if from a second tab
    page.click("#run")
    expect(error).to_contain_text("The model is busy: its queue is full. Try again in 1 s.")
    assert "{" not in error.text_content()


@pytest.mark.gguf
def test_the_embedded_planner_runs_from_the_page(serve_live, page, monkeypatch) -> None:
    from foreplan.llm.resolve import resolve_model

    monkeypatch.setenv("FOREPLAN_THREADS", "1")  # the machine is shared with other model runs
    url = serve_live({"planner": resolve_model("embedded-0.5b-planner")}, max_tokens_limit=512)
    page.goto(url)
    page.fill("#instruction", "What is 17 * 23?")
    page.click("#run")
    expect(page.locator("#answer")).not_to_be_empty(timeout=240_000)
    assert page.locator(".node").count() >= 1
    states = page.locator(".node").evaluate_all("nodes => nodes.map(n => n.dataset.state)")
    assert set(states) <= {"done", "failed", "skipped"}, states


MAIL_PLAN = ("Plan: Look Bob up.\n#E1 = lookup[bob]\n"
             "Plan: Mail him.\n#E2 = send_email[to='bob@example.com', subject='Hi', body=#E1]\n")


def test_a_side_effect_waits_on_the_page_until_it_is_approved(serve_live, page) -> None:
    from mail_tools import mail_toolkit

    sent: list[dict] = []
    url = serve_live({"planner": ScriptedLLM([MAIL_PLAN]), "solver": ScriptedLLM(["Mailed Bob."])},
                     toolkits={"default": default_toolkit(), "mail": mail_toolkit(sent)})
    page.goto(url)
    page.select_option("#toolkit", "mail")
    page.check("#confirm")
    page.fill("#instruction", "Mail Bob his notes.")
    page.click("#run")

    expect(_node(page, "E2")).to_have_attribute("data-state", "confirm")
    details = page.locator("#details")
    expect(details).to_contain_text("Wants to run")
    expect(details).to_contain_text("bob@example.com")
    expect(details).to_contain_text("body ← #E1")
    assert sent == []  # nothing is sent before the click
    page.click("#approve")

    expect(page.locator("#answer")).to_have_text("Mailed Bob.")
    expect(_node(page, "E2")).to_have_attribute("data-state", "done")
    assert sent == [{"to": "bob@example.com", "subject": "Hi", "body": "notes on bob"}]


def test_a_big_toolkit_shows_which_tools_the_planner_saw_and_a_repeated_task_reuses_its_plan(serve_live, page):
    from pathlib import Path

    from foreplan.tools.config import build_toolkit, load_toolkit_config

    taskbench = build_toolkit(load_toolkit_config(Path(__file__).resolve().parents[2] / "configs" / "toolkits" /
                                                  "taskbench.toml"))
    plan = "Plan: Play the movie.\n#E1 = play_movie_by_title[Inception]\n"
    # The second run reuses the stored plan: the planner is asked nothing, only the solver.
    url = serve_live({"planner": ScriptedLLM([plan]), "solver": ScriptedLLM(["Playing Inception.", "Playing again."])},
                     toolkits={"default": default_toolkit(), "taskbench": taskbench})
    page.goto(url)
    page.select_option("#toolkit", "taskbench")
    for answer in ("Playing Inception.", "Playing again."):
        page.fill("#instruction", "Play the movie Inception")
        page.click("#run")
        # The first run loads the retrieval's embedding model: seconds on a busy machine.
        expect(page.locator("#answer")).to_have_text(answer, timeout=60_000)
        chosen = page.locator("#tools-chosen")
        expect(chosen).to_contain_text("of 40 tools")
        expect(chosen.locator("code", has_text="play_movie_by_title")).to_have_attribute("title", re.compile("matches"))
    expect(page.locator("#run-status")).to_contain_text("plan of run 1, reused")


@tool
def square(n: int) -> int:
    """Square a whole number.

    Args:
        n: the number.
    """
    return n * n


@tool
def shout(text: str) -> str:
    """Say words in capitals, loudly.

    Args:
        text: the words to shout.
    """
    return text.upper()


def test_a_step_run_under_another_tool_than_the_planner_named_says_so(serve_live, page):
    plan = "Plan: Shout the words 'good morning' in capitals.\n#E1 = square[good morning]\n"
    url = serve_live({"planner": ScriptedLLM([plan]), "solver": ScriptedLLM(["GOOD MORNING"])},
                     toolkits={"default": default_toolkit(), "words": Toolkit([square, shout])})
    page.goto(url)
    page.select_option("#toolkit", "words")
    page.fill("#instruction", "Shout good morning")
    page.click("#run")
    expect(page.locator("#answer")).to_have_text("GOOD MORNING")
    _node(page, "E1").click()
    details = page.locator("#details")
    expect(details).to_contain_text("#E1 shout")
    expect(details).to_contain_text("the planner named square; its input fits shout")
    expect(details).to_contain_text("GOOD MORNING")
