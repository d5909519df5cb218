"""The solver: the plan and its evidence in, the answer out.

It sees every step's plan text next to that step's evidence, with failed, timed-out and
skipped steps marked as such, so it can say what could not be found instead of making
it up. A side-effect step (a mail sent, a file written) shows the arguments it was
actually called with, so the answer reports what was done, not what the plan meant to
do. Long evidence is cut at a length, or, with ``evidence_chars``, to its sentences that
best match the task and the step (llm/focus.py).

The answer is checked against the evidence: a small solver sometimes works the task out
again itself and gets it wrong (calculator said 1000, the answer said 257). Every number
in the answer must appear in the task, a step's input or the evidence (or be one of those
rounded or cut, or one arithmetic step on the evidence's numeric results and the task's
numbers no step used, as in "... and that number squared"); if one does not, the solver is asked once more, told which number is not
supported; if the second answer still invents one, the answer is the last successful
step's evidence, with the step it came from. An empty answer, or one cut off at
``max_tokens``, is asked again the same way; so is one that states an intermediate
numeric result (one a later step builds on: 4176 of 58 × 72 − 592) and no final one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.llm.focus import focus_value
from foreplan.prompts import render
from foreplan.types import NUMBER_RE, Completion, Evidence, Plan, Step, as_decimal, numbers_in, value_text

MAX_EVIDENCE_CHARS = 2000
ARGUMENT_CHARS = 120


def _short_arguments(arguments: dict) -> str:
    """``to='bob@example.com', body='Team offsite … (412 characters)'``."""
    parts = []
    for name, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > ARGUMENT_CHARS:
            text = f"{text[:ARGUMENT_CHARS]}… ({len(text)} characters)"
        parts.append(f"{name}={text!r}")
    return ", ".join(parts)


@dataclass
class Solver:
    llm: LLM
    max_tokens: int = 256
    evidence_chars: int | None = None
    """Longer evidence is cut to its sentences that best match the task and the step
    (llm/focus.py). None: evidence is cut at :data:`MAX_EVIDENCE_CHARS`, as always; on
    HotpotQA's first 12 a focus of 1,000 characters was faster but lost EM (0.58 → 0.50,
    bench/rewoo_answers.py), so it is not the default."""
    used_evidence_chars: int | None = None
    """Evidence that a later step already read (a search an ``LLM`` step answered from) is
    cut to this many characters: the later step's result carries what was needed of it,
    and the solver reads the whole of only the results nothing builds on. None: every
    step's evidence gets the same budget. Not the default: 400 took 0.44x brief's seconds
    after the plan on HotpotQA's first 12 at the same EM and F1, but on SOTU's first 15 it
    saved no time (11.7 vs 11.8 s) and lost F1 (0.20 vs 0.22; bench/rewoo_answers.py)."""

    def prompt(self, instruction: str, plan: Plan, evidence: dict[str, Evidence]) -> list[Message]:
        used = {d for s in plan.steps for d in s.depends_on}  # a step nothing builds on holds a final result
        steps = []
        for step in plan.steps:
            ev = evidence.get(step.id)
            text = ev.text() if ev is not None else "[skipped] not run"
            if self.evidence_chars is not None and ev is not None and ev.ok and len(text) > self.evidence_chars:
                text = value_text(focus_value(ev.value, f"{instruction} {step.plan}", self.evidence_chars))
            if ev is not None and ev.side_effect and ev.arguments is not None:
                text = f"{step.tool} was called with {_short_arguments(ev.arguments)} and returned: {text}"
            budget = MAX_EVIDENCE_CHARS
            if self.used_evidence_chars is not None and step.id in used and not (ev is not None and ev.side_effect):
                budget = min(budget, self.used_evidence_chars)
            if len(text) > budget:
                text = text[:budget] + f" ... [{len(text) - budget} more characters cut]"
            final = step.id not in used and ev is not None and ev.ok
            steps.append({"id": f"#{step.id}", "tool": step.tool, "plan": step.plan, "evidence": text, "final": final})
        return [{"role": "user", "content": render("solver", steps=steps, comparisons=comparisons(plan, evidence),
                                                   task=instruction.strip())}]

    def solve(self, instruction: str, plan: Plan, evidence: dict[str, Evidence]) -> Completion:
        """The answer to ``instruction`` from the evidence, checked (module docstring).

        Raises:
            LLMError: the backend failed.
        """
        # Answers quote the evidence: prompt lookup drafts those tokens (1.2x on the CPU, llm/lookup.py).
        options = GenerationOptions(max_tokens=self.max_tokens, prompt_lookup=True)
        messages = self.prompt(instruction, plan, evidence)
        first = self.llm.generate(messages, options)
        known = supported_numbers(instruction, plan, evidence)
        results = step_results(plan, evidence)
        flaw = answer_flaw(first, known, results)
        if flaw is None:
            return first
        again = self.llm.generate([*messages, {"role": "assistant", "content": first.text},
                                   {"role": "user", "content": f"{flaw.told} Answer the task again, using only the "
                                    "values the evidence gives. Respond with the answer directly."}], options)
        flaw = answer_flaw(again, known, results)
        if flaw is None:
            return again
        return Completion(fallback_answer(plan, evidence, flaw.why_not), again.usage, "fallback")


def comparisons(plan: Plan, evidence: dict[str, Evidence]) -> list[str]:
    """``item_price: #E1 249.0 > #E2 59.9``: the numeric results of each tool that ran on
    several inputs, largest first.

    Values of one tool are values of one kind (two prices, two populations), which is what
    a task compares ("which costs more", "the smaller city"). A small solver misreads such
    a comparison (the 1.5B named 59.9 as the higher of 249.0 and 59.9 in 4 of 7 such tasks);
    written out in order, it only has to read it.
    """
    by_tool: dict[str, list[tuple[Decimal, str]]] = {}
    for step, value in numeric_results(plan, evidence):
        by_tool.setdefault(step.tool, []).append((value, f"#{step.id} {evidence[step.id].text()}"))
    lines = []
    for tool, values in by_tool.items():
        if len(values) < 2:
            continue
        ordered = sorted(values, key=lambda v: -v[0])
        line = ordered[0][1]
        for (before, _), (value, shown) in zip(ordered, ordered[1:]):
            line += f" {'=' if value == before else '>'} {shown}"
        lines.append(f"{tool}: {line}")
    return lines


@dataclass(frozen=True)
class Flaw:
    """What is wrong with an answer, said twice."""

    told: str
    """To the solver, when it is asked again."""
    why_not: str
    """In a fallback answer, with no number in it (a reader or a scorer that takes the
    answer's numbers must find only the evidence's)."""


@dataclass(frozen=True)
class Results:
    """The numeric results of successful steps, by whether a later step builds on them.
    Texts are left out on purpose: in multi-hop questions the answer is often a text a
    later step builds on (the bridge entity of HotpotQA), where the final step only adds
    a detail; on HotpotQA's first 10 the same rule for texts turned 2 right answers into
    the final step's text."""

    final: dict[str, Decimal]
    intermediate: dict[str, Decimal]


def numeric_results(plan: Plan, evidence: dict[str, Evidence]) -> list[tuple[Step, Decimal]]:
    """The steps that succeeded with a number (not a bool), in plan order, with it."""
    found = []
    for step in plan.steps:
        ev = evidence.get(step.id)
        if ev is None or not ev.ok or isinstance(ev.value, bool) or not isinstance(ev.value, (int, float)):
            continue
        value = as_decimal(str(ev.value))
        if value is not None:
            found.append((step, value))
    return found


def step_results(plan: Plan, evidence: dict[str, Evidence]) -> Results:
    used = {d for s in plan.steps for d in s.depends_on}
    final: dict[str, Decimal] = {}
    intermediate: dict[str, Decimal] = {}
    for step, value in numeric_results(plan, evidence):
        (intermediate if step.id in used else final)[step.id] = value
    return Results(final, intermediate)


def _intermediate_only(text: str, results: Results) -> tuple[str, str] | None:
    """(intermediate step, final step) when ``text`` states an intermediate numeric
    result and none of the final ones; None otherwise, or when no final result is a
    number."""
    if not results.final:
        return None
    stated = [value for token in NUMBER_RE.findall(text) if (value := as_decimal(token)) is not None]

    def said(value: Decimal) -> bool:
        return any(_rounds_to(value, n) for n in stated)

    if any(said(v) for v in results.final.values()):
        return None
    finals = set(results.final.values())
    step = next((s for s, v in results.intermediate.items() if v not in finals and said(v)), None)
    return (step, next(iter(results.final))) if step else None


def _rounds_to(exact: Decimal, stated: Decimal) -> bool:
    """Whether ``stated`` is ``exact``, or ``exact`` rounded or cut to ``stated``'s places."""
    if exact == stated:
        return True
    if abs(exact) >= Decimal(10) ** 15:
        return False
    places = -stated.as_tuple().exponent if stated.as_tuple().exponent < 0 else 0
    unit = Decimal(1).scaleb(-places)
    return stated in (exact.quantize(unit), exact.quantize(unit, ROUND_DOWN))


def answer_flaw(answer: Completion, known: list[Decimal], results: Results | None = None) -> Flaw | None:
    """What is wrong with an answer, or None."""
    if not answer.text.strip():
        return Flaw("Your answer was empty.", "it was empty")
    if answer.finish_reason == "length":
        return Flaw("Your answer was cut off; keep it short.", "it was cut off")
    invented = invented_numbers(answer.text, known)
    if invented:
        listed = ", ".join(invented)
        return Flaw(f"Your answer gives {listed}, which {'is' if len(invented) == 1 else 'are'} in neither the "
                    "task nor the evidence.", "it gave a number that is in neither the task nor the evidence")
    steps = _intermediate_only(answer.text, results) if results is not None else None
    if steps is not None:
        middle, last = steps
        return Flaw(f"Your answer gives the result of #{middle}, which a later step builds on, and not the final "
                    f"result (#{last}).", "it gave an intermediate result instead of the final one")
    return None


MAX_OPERANDS = 12


def supported_numbers(instruction: str, plan: Plan, evidence: dict[str, Evidence]) -> list[Decimal]:
    """The numbers an answer may state: those written in the task, the steps' inputs or
    the evidence, and one arithmetic step (a square, or ``+ - × ÷`` of two) on the evidence's
    numeric results, the step a task such as "... and what is that number squared?"
    leaves to the answer. A number of the task is an operand only where no step's input
    uses it: the plan left that arithmetic to the answer ("convert 7 kg to pounds, then
    add 4", planned as one conversion), while redoing arithmetic the plan did is what a
    small solver gets wrong (12.5 × 8 + 0.75 answered 101.5, the result plus 0.75 once
    more). Long texts add no operands either, so their many numbers cannot make a random
    one look derived."""
    inputs = "\n".join(s.input for s in plan.steps)  # not the plan's prose: "Plan: 1. ..." numbers its steps
    written = numbers_in(f"{instruction}\n{inputs}\n" + "\n".join(e.text() for e in evidence.values() if e.ok))
    results = [as_decimal(str(e.value)) for e in evidence.values()
               if e.ok and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)]
    operands = list(dict.fromkeys(n for n in results if n is not None))[:MAX_OPERANDS]
    planned = set(numbers_in(inputs))
    unused = [n for n in dict.fromkeys(numbers_in(instruction)) if n not in planned][:MAX_OPERANDS]
    derived = [a * a for a in operands]
    for a in operands:
        for b in operands + unused:
            if a != b:
                derived += [a + b, a - b, a * b] + ([a / b] if b else [])
        derived += [b - a for b in unused] + [b / a for b in unused if a]
    return written + [d.normalize() for d in derived if abs(d) < Decimal(10) ** 15]


def invented_numbers(answer: str, supported: list[Decimal]) -> list[str]:
    """Numbers in ``answer`` that are ``supported`` neither as written nor rounded or cut
    (``3.14`` is supported by ``3.14159``; ``1,000`` by ``1000``)."""
    exact = set(supported)
    invented: list[str] = []
    for token in NUMBER_RE.findall(answer):
        value = as_decimal(token)
        if value is None or value in exact:
            continue
        if any(_rounds_to(n, value) for n in supported):
            continue  # the evidence's number, rounded or cut to the answer's places
        invented.append(token)
    return list(dict.fromkeys(invented))




def fallback_answer(plan: Plan, evidence: dict[str, Evidence], why: str) -> str:
    """The last successful step's evidence, naming the tool, and why the solver's own
    answer was not used: what the run did find, and nothing it did not."""
    for step in reversed(plan.steps):
        found = evidence.get(step.id)
        if found is not None and found.ok:
            return f"{found.text()} (the {step.tool} step's result; the solver's own answer was not used: {why})"
    return f"The steps found nothing to answer with (the solver's own answer was not used: {why})."
