"""Planner examples for a user's own toolkit, written by a teacher model and kept only
where the plan passes: the data of ``foreplan tune``.

    teacher ─► a request that needs some of the tools ─► the agent's planner prompt ─► plan
        ─► validates ─► uses a tool it was written for ─► the worker runs it ─► kept
                                                          (side effects as dry runs,
                                                           LLM steps answered by a stub)

Synthetic template tasks (``foreplan data synth-plans``) cannot know a user's tools, so a
model writes the tasks, here as in self-instruct and ToolLLM's data: any model the
registry resolves, the embedded 1.5B by default or an OpenAI-compatible server. Every try
is appended to ``tries.jsonl`` the moment it is judged, kept or with the reason it was
dropped, so a stopped run resumes where it was and a run's yield can be read afterwards.

Train and held-out are fixed per task, by a seeded hash of its text: the same task is
always on the same side, however many tries a run makes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import DatasetError, ForeplanError, PlanInvalidError
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.dag import Worker
from foreplan.llm.base import LLM, Constraint, GenerationOptions
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import result_names
from foreplan.prompts import render
from foreplan.synth.toolbox import StubLLM
from foreplan.tools.context import RunContext
from foreplan.tools.retrieval import DEFAULT_K, choose_tools
from foreplan.tools.tool import Tool
from foreplan.tools.toolkit import Toolkit

#: The most tools one task is written for.
MAX_FOCUS = 3
#: The teacher's reply: the request alone.
REQUEST_SCHEMA = {"type": "object", "properties": {"request": {"type": "string", "minLength": 12, "maxLength": 400}},
                  "required": ["request"], "additionalProperties": False}


@dataclass(frozen=True)
class Try:
    """One teacher task and what became of it."""

    id: str
    task: str
    focus: list[str]
    """The tools the task was written for."""
    tools: list[str]
    """The tools the planner prompt showed (the agent's own choice for this task)."""
    plan: str | None
    kept: bool
    why: str
    """Why it was dropped; empty when kept."""
    seconds: float

    @property
    def used_tools(self) -> list[str]:
        return [s.tool for s in parse_plan(self.plan).steps] if self.plan else []


def dry_run(tool: Tool) -> Tool:
    """``tool`` itself when it has no side effects; else a stand-in that checks its
    arguments like the tool and reports what it would have done (with the tool's declared
    result fields, so later steps can read them), without doing it."""
    if not tool.side_effects:
        return tool
    fields = result_names(tool)

    def would(**arguments: Any) -> Any:
        if fields:
            return {name: f"({name} of a dry run of {tool.name})" for name in fields}
        return f"{tool.name} would run with {json.dumps(arguments, ensure_ascii=False, default=str)} (dry run)"

    return dataclasses.replace(tool, fn=would, side_effects=False, context_parameter=None, resource=None, retries=0)


def dry_toolkit(toolkit: Toolkit) -> Toolkit:
    """The toolkit with every side-effect tool replaced by its dry run."""
    kit = Toolkit(dry_run(t) for t in toolkit)
    kit.planner_example, kit.always_on = toolkit.planner_example, toolkit.always_on
    return kit


class ToolkitBox:
    """A user's toolkit in the shape :func:`foreplan.eval.planner_eval.run_planner_eval`
    reads tools from (``toolkit(names)``), side effects as dry runs."""

    def __init__(self, toolkit: Toolkit) -> None:
        self.dry = dry_toolkit(toolkit)

    def toolkit(self, names: list[str]) -> Toolkit:
        return self.dry.subset(names)


def is_heldout(task: str, share: float, seed: int) -> bool:
    """Whether ``task`` belongs to the held-out side: a seeded hash of its words, so the
    split never depends on the order or number of tries."""
    digest = hashlib.sha256(f"{seed}:{' '.join(task.lower().split())}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass
class Teacher:
    """Writes tasks for ``toolkit`` and plans them with the agent's own planner."""

    llm: LLM
    toolkit: Toolkit
    seed: int = 0
    max_tools: int = DEFAULT_K
    """The tools the agent shows its planner per task (retrieval above this many)."""

    def __post_init__(self) -> None:
        self.dry = dry_toolkit(self.toolkit)

    def focus(self, index: int) -> list[str]:
        """The tools try ``index`` is written for: one to three, drawn from the seed."""
        rng = random.Random(f"{self.seed}:{index}")
        names = [n for n in self.toolkit.names if n not in self.toolkit.always_on] or list(self.toolkit.names)
        return rng.sample(names, min(len(names), rng.randint(1, MAX_FOCUS)))

    def write_task(self, index: int, focus: list[str]) -> str:
        """The teacher's request for ``focus`` (sampled, seeded per try)."""
        shown = self.toolkit.subset([*focus, *self.toolkit.always_on])
        # No earlier tasks in the prompt: shown them, the 1.5B wrote variations of them.
        prompt = render("teach_task", tools=shown.describe(), focus=focus)
        # A JSON reply leaves no room for "Sure! Here is a request:" before the request.
        options = GenerationOptions(max_tokens=160, temperature=0.8, top_p=0.95, seed=self.seed * 100_003 + index,
                                    constraint=Constraint(json_schema=REQUEST_SCHEMA))
        text = self.llm.generate([{"role": "user", "content": prompt}], options).text
        try:
            reply = json.loads(text)
        except ValueError:
            return ""
        request = reply.get("request") if isinstance(reply, dict) else None
        return " ".join(request.split()) if isinstance(request, str) else ""

    def attempt(self, index: int, earlier: list[str]) -> Try:
        """One try: a task, its plan, and the verdict."""
        started = time.perf_counter()
        focus = self.focus(index)
        task = self.write_task(index, focus)

        def verdict(why: str, tools: list[str], plan: str | None = None) -> Try:
            return Try(f"teach-{self.seed}-{index}", task, focus, tools, plan, not why, why,
                       round(time.perf_counter() - started, 2))

        if len(task) < 12:
            return verdict("the teacher wrote no task", [])
        if any(task.lower() == e.lower() for e in earlier):  # earlier kept tasks
            return verdict("the task repeats an earlier one", [])
        shown = self.toolkit.subset(choose_tools(self.toolkit, task, self.max_tools).tools)
        try:
            planned = Planner(self.llm, shown).plan(task)
        except PlanInvalidError as exc:
            return verdict(f"no valid plan: {'; '.join(exc.problems)[:300]}", list(shown.names))
        plan = planned.plan
        text = plan.render().strip()
        if not {s.tool for s in plan.steps} & set(focus):
            return verdict("the plan uses none of the tools the task was written for", list(shown.names), text)
        needs_caller = any(t.single_input is None for t in shown)
        worker = Worker(self.dry.subset(shown.names), FunctionCaller(self.llm if needs_caller else None),
                        max_workers=4, context=RunContext(llm=StubLLM()))
        try:
            evidence = worker.run(plan)
        except ForeplanError as exc:
            return verdict(f"the plan did not run: {exc}", list(shown.names), text)
        failed = [f"#{e.step_id} {e.status.value}: {e.error}" for e in evidence.values() if not e.ok]
        if failed:
            return verdict(f"a step failed: {failed[0][:300]}", list(shown.names), text)
        return verdict("", list(shown.names), text)


def read_tries(path: Path) -> list[Try]:
    """The tries already judged (none when the file is not there yet). A last line cut
    off by a kill is dropped from the file, so the run goes on from the try before it.

    Raises:
        DatasetError: a line other than the last is not a try (the file was edited).
    """
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tries: list[Try] = []
    for number, line in enumerate(lines, start=1):
        try:
            tries.append(Try(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            if number < len(lines):
                raise DatasetError(f"{path}:{number} is not a try ({exc}); move the file away to start afresh") from exc
            path.write_text("".join(lines[:-1]), encoding="utf-8")
    return tries


def teach(teacher: Teacher, want: int, path: Path, max_tries: int,
          on_try: Callable[[Try], None] | None = None) -> list[Try]:
    """Try until ``want`` tasks are kept or ``max_tries`` tries are made, counting those
    already in ``path`` (a resumed run goes on from there); every try is appended as it
    is judged. Returns all tries, earlier ones included."""
    tries = read_tries(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        while sum(t.kept for t in tries) < want and len(tries) < max_tries:
            made = teacher.attempt(len(tries), [t.task for t in tries if t.kept])
            f.write(json.dumps(asdict(made), ensure_ascii=False) + "\n")
            f.flush()
            tries.append(made)
            if on_try is not None:
                on_try(made)
    return tries


def examples(tries: list[Try], toolkit: Toolkit, heldout_share: float, seed: int,
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alpaca training rows (the prompt the agent shows, then the plan) for the kept
    train-side tries, and planner task rows (``foreplan eval planner``) for the held-out
    side."""
    train, heldout = [], []
    for t in _unique_kept(tries):
        if is_heldout(t.task, heldout_share, seed):
            heldout.append({"id": t.id, "task": t.task, "tools": t.tools, "reference_tools": t.used_tools,
                            "reference_plan": t.plan})
        else:
            prompt = Planner(StubLLM(), toolkit.subset(t.tools)).prompt(t.task)[-1]["content"]
            train.append({"instruction": prompt, "input": "", "output": t.plan, "id": t.id, "task": t.task,
                          "tools": t.tools})
    return train, heldout


def _unique_kept(tries: list[Try]) -> Iterator[Try]:
    seen: set[str] = set()
    for t in tries:
        key = " ".join(t.task.lower().split())
        if t.kept and key not in seen:
            seen.add(key)
            yield t
