"""Synthesize planner training examples, keeping only plans that parse, validate and run.

    make_candidate ─► split (held-out tool?) ─► tool list (needed + distractors, shuffled)
        ─► Planner.prompt (the agent's exact prompt) ─► token budget ─► plan text
        ─► parse_plan ─► validate_plan ─► plan grammar admits it ─► Worker runs it ─► Example

Every check that fails drops the candidate and counts the reason, so a run reports what
it threw away and why. Everything is drawn from one ``random.Random(seed)``: the same
seed gives the same files.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from foreplan.errors import PlanParseError
from foreplan.execute.dag import Worker
from foreplan.plan.grammar import DEFAULT_MAX_STEPS, plan_grammar
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import validate_plan
from foreplan.synth.shapes import Candidate, make_candidate
from foreplan.synth.toolbox import ALL_TOOL_NAMES, StubLLM, Toolbox
from foreplan.synth.tools import HELDOUT_TOOLS
from foreplan.tools.context import RunContext

#: The planner prompt's budget in tokens (user message only; the chat template adds ~30).
MAX_PROMPT_TOKENS = 560
#: How many tools a prompt may list (needed + distractors).
MAX_TOOLS = 6


@dataclass(frozen=True)
class Example:
    id: str
    split: str
    """``train`` or ``heldout``."""
    shape: str
    task: str
    tools: list[str]
    """The tools the prompt lists, in its order."""
    reference_tools: list[str]
    prompt: str
    """The planner's user message: exactly what ``Planner.prompt(task)`` renders."""
    plan: str
    prompt_tokens: int

    def alpaca(self) -> dict[str, Any]:
        """A training row: alpaca columns plus what the row is about."""
        return {"instruction": self.prompt, "input": "", "output": self.plan, "id": self.id, "task": self.task,
                "tools": self.tools, "reference_tools": self.reference_tools, "shape": self.shape}

    def task_row(self) -> dict[str, Any]:
        """A row of a planner task file (see :mod:`foreplan.eval.planner_eval`)."""
        return {"id": self.id, "task": self.task, "tools": self.tools, "reference_tools": self.reference_tools,
                "shape": self.shape, "reference_plan": self.plan}


@dataclass
class SynthReport:
    examples: list[Example] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    """Reason -> how many candidates it dropped."""
    candidates: int = 0

    def split(self, name: str) -> list[Example]:
        return [e for e in self.examples if e.split == name]


def render_plan(candidate: Candidate) -> str:
    """The plan text in the format the plan grammar admits (no trailing newline)."""
    return "\n".join(f"Plan: {plan}\n#E{i} = {tool}[{text}]" for i, (plan, tool, text) in enumerate(candidate.steps, 1))


def char_tokens(text: str) -> int:
    """A token estimate when no tokenizer is at hand (~3.5 characters per Qwen token)."""
    return int(len(text) / 3.5) + 1


class PlanSynthesizer:
    """Draws candidates and checks them; one instance per output (its RNG is the state)."""

    def __init__(self, toolbox: Toolbox, seed: int = 0, *, count_tokens: Callable[[str], int] = char_tokens,
                 grammar_check: Callable[[str, str], bool] | None = None, execute: bool = True) -> None:
        self.toolbox = toolbox
        self.rng = random.Random(seed)
        self.count_tokens = count_tokens
        self.grammar_check = grammar_check
        """(grammar, text) -> admitted; None skips the check."""
        self.execute = execute
        self._seen: set[str] = set()

    def _tool_list(self, needed: list[str], split: str) -> list[str]:
        pool = [n for n in ALL_TOOL_NAMES if n not in needed and (split == "heldout" or n not in HELDOUT_TOOLS)]
        room = max(0, MAX_TOOLS - len(needed))
        extra = self.rng.sample(pool, min(room, self.rng.choice((0, 1, 1, 2, 2, 3, 4))))
        names = needed + extra
        self.rng.shuffle(names)
        return names

    def _prompt(self, task: str, names: list[str], needed: list[str]) -> tuple[list[str], str, int]:
        """The prompt for ``names``, dropping distractors until it fits the budget."""
        while True:
            prompt = Planner(StubLLM(), self.toolbox.toolkit(names)).prompt(task)[0]["content"]
            tokens = self.count_tokens(prompt)
            extra = [n for n in names if n not in needed]
            if tokens <= MAX_PROMPT_TOKENS or not extra:
                return names, prompt, tokens
            names = [n for n in names if n != extra[-1]]

    def draw(self, want: dict[str, int], report: SynthReport) -> Example | None:
        """One candidate through every check; None (with the reason counted) if it fails."""
        candidate = make_candidate(self.rng)
        report.candidates += 1
        needed = list(dict.fromkeys(candidate.reference_tools))
        split = "heldout" if HELDOUT_TOOLS & set(needed) else "train"
        if len(report.split(split)) >= want[split]:
            report.dropped[f"{split} split already full (not checked)"] += 1
            return None
        if candidate.task in self._seen:
            report.dropped["duplicate task"] += 1
            return None
        names, prompt, tokens = self._prompt(candidate.task, self._tool_list(needed, split), needed)
        if tokens > MAX_PROMPT_TOKENS:
            report.dropped["prompt over the token budget"] += 1
            return None
        reason = self.check(candidate, render_plan(candidate), names)
        if reason:
            report.dropped[reason] += 1
            return None
        self._seen.add(candidate.task)
        number = len(report.split(split))
        example = Example(f"{split}-{number:04d}", split, candidate.shape, candidate.task, names,
                          candidate.reference_tools, prompt, render_plan(candidate), tokens)
        report.examples.append(example)
        return example

    def check(self, candidate: Candidate, text: str, names: list[str]) -> str | None:
        """Why the plan text fails (parse, validate, grammar, execution), or None."""
        toolkit = self.toolbox.toolkit(names)
        try:
            plan = parse_plan(text)
        except PlanParseError as exc:
            return f"does not parse: {exc}"
        if len(plan.steps) != len(candidate.steps):
            return "parses to a different number of steps"
        problems = validate_plan(plan, toolkit, DEFAULT_MAX_STEPS)
        if problems:
            return f"invalid: {problems[0].code}"
        if self.grammar_check is not None and not self.grammar_check(plan_grammar(toolkit, DEFAULT_MAX_STEPS), text):
            return "the plan grammar refuses it"
        if self.execute:
            evidence = Worker(toolkit, max_workers=4, context=RunContext(llm=StubLLM())).run(plan)
            failed = [(e, plan.step(e.step_id).tool) for e in evidence.values() if not e.ok]
            if failed:
                return f"step failed: {failed[0][1]}"
        return None


def synthesize(toolbox: Toolbox, n: int, heldout_n: int, seed: int = 0, *,
               count_tokens: Callable[[str], int] = char_tokens,
               grammar_check: Callable[[str, str], bool] | None = None, execute: bool = True,
               on_example: Callable[[Example], None] | None = None, max_candidates: int | None = None) -> SynthReport:
    """Draw candidates until ``n`` training and ``heldout_n`` held-out examples pass.

    Args:
        toolbox: where the tools come from (its workspace receives saved files).
        n: training examples wanted.
        heldout_n: held-out examples wanted (tasks that use a tool in ``HELDOUT_TOOLS``).
        seed: the one source of randomness.
        count_tokens: prompt length in tokens (default: a character estimate).
        grammar_check: ``(grammar, text) -> bool``; None skips the grammar check.
        execute: run each plan with the worker and keep it only when every step succeeds.
        on_example: called after each kept example (progress).
        max_candidates: stop after this many draws (default ``50 * (n + heldout_n) + 100``).
    """
    synthesizer = PlanSynthesizer(toolbox, seed, count_tokens=count_tokens, grammar_check=grammar_check,
                                  execute=execute)
    report = SynthReport()
    want = {"train": n, "heldout": heldout_n}
    limit = max_candidates if max_candidates is not None else 50 * (n + heldout_n) + 100
    while len(report.split("train")) < n or len(report.split("heldout")) < heldout_n:
        if report.candidates >= limit:
            break
        example = synthesizer.draw(want, report)
        if example is not None and on_example is not None:
            on_example(example)
    return report
