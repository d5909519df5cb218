"""The planner: one instruction in, a validated plan out, with one repair attempt.

    instruction ─► prompt (tools, example, task) ─► LLM (+ plan grammar) ─► parse ─► drop repeats ─► retool ─► validate
                                                         ▲                                                     │ problems
                                                         └─ prompt + problems ◄────────────────────────────────┘ (once)

The grammar makes malformed plans impossible on backends that honour it; the repair
round covers backends without one and problems a grammar cannot see (an input that does
not fit its tool's schema). In the repair round, a tool whose step input did not fit
takes keyword arguments only, its own (plan/grammar.py): told in words that a tool takes
two arguments, the 1.5B wrote three again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from foreplan.errors import ConfigError, PlanInvalidError, PlanParseError
from foreplan.llm.base import LLM, Constraint, GenerationOptions, Message
from foreplan.plan.dedupe import drop_repeated_steps
from foreplan.plan.examples import pick_example
from foreplan.plan.grammar import DEFAULT_MAX_STEPS, plan_grammar, tool_choices
from foreplan.plan.parse import parse_plan
from foreplan.plan.retool import retool_steps
from foreplan.plan.validate import Problem, validate_plan
from foreplan.prompts import render
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, ToolChoice, Usage


@dataclass
class PlanResult:
    plan: Plan
    usage: Usage
    attempts: int
    texts: list[str] = field(default_factory=list)
    """What the planner wrote, per attempt."""
    merged: dict[str, str] = field(default_factory=dict)
    """Repeated steps that were dropped, and the step each one repeated."""
    retooled: dict[str, str] = field(default_factory=dict)
    """Steps given the tool their plan line and input fit (plan/retool.py): {id: the tool the planner named}."""
    tools: ToolChoice | None = None
    """The tools the planner was shown when retrieval cut a big toolkit (set by the agent)."""


SOFT_PROBLEMS = frozenset({"no_such_field", "untrusted_sensitive", "needs_producer"})
"""Problem codes that get the planner's one repair but do not stop a plan from running."""


@dataclass(frozen=True)
class Checked:
    """A planner reply, judged: the plan as it will run (repeated steps and field lookups
    folded into the steps they repeat, misnamed tools replaced), what was folded, the
    problems that stop it from running and those that only make a step fail."""

    plan: Plan | None
    merged: dict[str, str]
    blocking: list[str]
    soft: list[str]
    retooled: dict[str, str] = field(default_factory=dict)
    misfit: frozenset[str] = frozenset()
    """Tools whose step input does not fit them (``bad_input``)."""


def misfit_tools(plan: Plan, problems: list[Problem]) -> frozenset[str]:
    """The tools of ``plan``'s steps whose input does not fit them (``bad_input``)."""
    tool_of = {s.id: s.tool for s in plan.steps}
    return frozenset(tool_of[p.step_id] for p in problems if p.code == "bad_input" and p.step_id in tool_of)


@dataclass
class Planner:
    llm: LLM
    toolkit: Toolkit
    grammar: bool = True
    """Constrain decoding with the toolkit's plan grammar (when the backend can)."""
    max_steps: int = DEFAULT_MAX_STEPS
    max_tokens: int = 512
    examples: tuple[str, ...] = ()
    """Worked examples from past runs on these tools (memory.py), shown in place of the
    toolkit's or the built-in one; any that no longer validates is left out."""
    keyword_arguments: bool = False
    """Make every tool the caller fills take keyword arguments in the plan from the first
    attempt (with a grammar), not only those whose input did not fit in the first."""
    whole_tool_names: bool = True
    """With a grammar, pick each step's tool by the likelihood of its whole name, not of
    its first token (llm/choice.py)."""

    def prompt(self, instruction: str, avoid: list[str] | None = None) -> list[Message]:
        text = render(
            "planner",
            tools=self.toolkit.describe(),
            example=self._example(),
            task=instruction.strip(),
            avoid=avoid or [],
        )
        return [{"role": "user", "content": text}]

    def _repair_messages(self, instruction: str, messages: list[Message], text: str,
                         problems: list[str]) -> list[Message]:
        """The second attempt's prompt: the first prompt again, with the first plan's
        problems said before the task, but not the plan itself. Shown its own plan and
        asked to fix it, the 1.5B rewrote the same plan word for word."""
        return self.prompt(instruction, avoid=problems)

    def _example(self) -> str | None:
        """Past runs' examples that still validate, else the toolkit's own worked example
        (checked), else a built-in one that uses only its tools.

        Raises:
            ConfigError: the toolkit's example is not a task followed by a valid plan.
        """
        remembered = [e.strip() for e in self.examples
                      if e.startswith("Task:") and not self._check(e.partition("\n")[2])[1]]
        if remembered:
            return "\n\n".join(remembered)
        example = self.toolkit.planner_example
        if example is None:
            return pick_example(set(self.toolkit.names))
        first, _, rest = example.strip().partition("\n")
        if not first.startswith("Task:"):
            raise ConfigError("the toolkit's planner_example must start with a 'Task: ...' line, then its plan")
        plan, problems = self._check(rest)
        if plan is None or problems:
            raise ConfigError(f"the toolkit's planner_example is not a valid plan for its tools: {'; '.join(problems)}")
        return example.strip()

    @property
    def first(self) -> int:
        """The number of the plan's first step (a replan continues after the old ones)."""
        return 1

    def _options(self, named: frozenset[str] = frozenset()) -> GenerationOptions:
        """Decoding options; tools in ``named`` take keyword arguments only."""
        use_grammar = self.grammar and self.llm.supports_grammar
        if self.keyword_arguments:
            named = frozenset(self.toolkit.names)
        grammar = plan_grammar(self.toolkit, self.max_steps, self.first, named) if use_grammar else None
        choices = tool_choices(self.toolkit) if grammar and self.whole_tool_names else ()
        constraint = Constraint(grammar=grammar, choices=choices) if grammar else Constraint()
        # Without a grammar, stop before the model starts answering its own plan.
        stop = () if use_grammar else ("\nTask:", "\nObservation", "\nResponse:")
        return GenerationOptions(max_tokens=self.max_tokens, stop=stop, constraint=constraint)

    def _dedupe(self, plan: Plan) -> tuple[Plan, dict[str, str]]:
        return drop_repeated_steps(plan, self.toolkit)

    def _check(self, text: str) -> tuple[Plan | None, list[str]]:
        checked = self._problems(text)
        return checked.plan, checked.blocking + checked.soft

    def _problems(self, text: str) -> Checked:
        """``text`` judged as it will run. Soft problems (a field its producer does not
        return, a side effect the worker will refuse) are worth one repair, not a lost run."""
        try:
            parsed = parse_plan(text)
        except PlanParseError as exc:
            return Checked(None, {}, [f"the text is not a plan ({exc})"], [])
        plan, merged = self._dedupe(parsed)
        plan, retooled = retool_steps(plan, self.toolkit)
        problems = validate_plan(plan, self.toolkit, self.max_steps)
        return Checked(plan, merged, [str(p) for p in problems if p.code not in SOFT_PROBLEMS],
                       [str(p) for p in problems if p.code in SOFT_PROBLEMS], retooled, misfit_tools(plan, problems))

    def plan(self, instruction: str) -> PlanResult:
        """Write a plan for ``instruction``.

        Raises:
            ConfigError: the instruction is empty.
            PlanInvalidError: the plan still does not parse or validate after one repair.
            LLMError: the backend failed.
        """
        if not instruction or not instruction.strip():
            raise ConfigError("The instruction is empty: say what the agent should do.")
        messages = self.prompt(instruction)
        options = self._options()
        usage = Usage()
        texts: list[str] = []
        for attempt in (1, 2):
            completion = self.llm.generate(messages, options)
            usage.add(completion.usage)
            texts.append(completion.text)
            checked = self._problems(completion.text)
            problems = checked.blocking + checked.soft
            # After the repair a plan with only soft problems runs: its step fails as
            # evidence that says why, and the rest of the run goes on.
            if checked.plan is not None and not checked.blocking and (not checked.soft or attempt == 2):
                return PlanResult(checked.plan, usage, attempt, texts, checked.merged, checked.retooled)
            messages = self._repair_messages(instruction, messages, completion.text, problems)
            options = self._options(named=checked.misfit)
        raise PlanInvalidError(texts[-1], problems)
