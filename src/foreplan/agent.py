"""The agent: plan every step up front, run the steps as a graph, solve from the evidence.

    instruction ─► Planner ─► Plan ─► Worker (parallel DAG) ─► evidence ─► Solver ─► answer
                    (planner LLM)       └ FunctionCaller (caller LLM)  │     (solver LLM)
                        ▲                                              │ a step failed, timed out or found
                        └──────── Replanner (at most max_replans) ◄────┘ nothing; the solver found no answer

``run`` returns a :class:`RunResult` and reports :mod:`foreplan.events` as they happen
(to a callback, or as an iterator with ``stream``). Each role's tokens are counted
separately: planner, caller, solver, and tools (the ``LLM`` tool).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from foreplan.bridge import ThreadBridge
from foreplan.events import AnswerReady, Event, PlanReady, RunStarted, ToolsChosen
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.confirm import Confirm
from foreplan.execute.dag import Worker
from foreplan.llm.base import LLM
from foreplan.llm.meter import MeteredLLM
from foreplan.plan.grammar import DEFAULT_MAX_STEPS
from foreplan.errors import PlanError, PlanInvalidError, RunStoreError
from foreplan.memory import RunMemory
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner, PlanResult
from foreplan.plan.validate import validate_plan
from foreplan.plan.replan import Replanner, replan_reasons
from foreplan.solve import Solver
from foreplan.tools.context import RunContext
from foreplan.tools.retrieval import DEFAULT_K, choose_tools
from foreplan.tools.toolkit import Toolkit
from foreplan.trace import TraceWriter
from foreplan.types import Evidence, Plan, ToolChoice, Usage


@dataclass(frozen=True)
class Replan:
    round: int
    reasons: list[str]
    steps: list[str]
    """The ids of the steps this round added."""
    attempts: int


@dataclass
class RunResult:
    instruction: str
    plan: Plan
    evidence: dict[str, Evidence]
    answer: str
    usage: dict[str, Usage]
    seconds: float
    plan_attempts: int = 1
    merged: dict[str, str] = field(default_factory=dict)
    """Repeated steps the planner wrote and foreplan dropped: {dropped id: kept id}."""
    replans: list[Replan] = field(default_factory=list)
    """The rounds after the first, in order; their steps are in ``plan`` too."""
    notes: list[str] = field(default_factory=list)
    """What the user should know about how the answer came about (a replan that failed)."""
    tools: ToolChoice | None = None
    """The tools the planner was shown, when retrieval cut a big toolkit (retrieval.py)."""
    reused_from: int | None = None
    """The stored run whose plan this run reused instead of planning (memory.py)."""
    run_id: int | None = None
    """This run's id in the run store (``foreplan runs show ID``); None without memory."""
    retooled: dict[str, str] = field(default_factory=dict)
    """Steps foreplan gave the tool their plan line and input fit: {id: the tool the planner named}."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "instruction": self.instruction,
            "run_id": self.run_id,
            "reused_from": self.reused_from,
            "tools": self.tools.to_dict() if self.tools else None,
            "plan": [s.to_dict() for s in self.plan.steps],
            "plan_attempts": self.plan_attempts,
            "merged_steps": self.merged,
            "retooled_steps": self.retooled,
            "replans": [asdict(r) for r in self.replans],
            "notes": self.notes,
            "evidence": {k: v.to_dict() for k, v in self.evidence.items()},
            "answer": self.answer,
            "usage": {role: u.to_dict() for role, u in self.usage.items()},
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Agent:
    planner: LLM
    toolkit: Toolkit
    caller: LLM | None = None
    """Turns a step into JSON arguments for tools that take several; defaults to none
    (tools with one text input need no caller)."""
    solver: LLM | None = None
    """Defaults to the planner's model."""
    grammar: bool = True
    keyword_arguments: bool = False
    """Every tool with several arguments takes only its own keyword arguments in a plan,
    from the first attempt (plan/grammar.py); the repair round does so anyway for a tool
    whose input did not fit. On TaskBench: the same tools, better arguments, no invalid
    plan, 0.83x the seconds; not the default until more suites are rerun with it."""
    max_steps: int = DEFAULT_MAX_STEPS
    max_workers: int = 8
    trace: Path | None = None
    confirm: Confirm | None = None
    """Asked before each side-effect call (execute/confirm.py); None: no question."""
    max_replans: int = 1
    """Rounds of new steps after the first when a step failed, timed out or found
    nothing, or the solver found no answer in the evidence (plan/replan.py); 0: none."""
    max_tools: int | None = DEFAULT_K
    """A toolkit bigger than tools/retrieval.py's threshold is cut to the tools that best
    match the task (this many, plus always-on tools and the producers they need) before
    planning; None: the planner always sees every tool (``--all-tools``)."""
    memory: RunMemory | None = None
    """Where runs are stored and learnt from (memory.py): the same task on the same
    toolkit reuses its plan, similar ones lend theirs as examples; None: no memory."""
    memory_examples: int = 1
    """How many similar past runs the planner sees as worked examples."""

    def choose_tools(self, instruction: str) -> tuple[Toolkit, ToolChoice | None]:
        """The toolkit the planner sees for ``instruction``, and the choice when retrieval
        cut it (None when it shows every tool)."""
        if self.max_tools is None:
            return self.toolkit, None
        choice = choose_tools(self.toolkit, instruction, self.max_tools)
        return (self.toolkit.subset(choice.tools), choice) if choice.cut else (self.toolkit, None)

    def plan(self, instruction: str) -> PlanResult:
        """Only plan (``foreplan plan``); ``PlanResult.tools`` holds the retrieval's choice."""
        toolkit, choice = self.choose_tools(instruction)
        fingerprint = self.toolkit.fingerprint() if self.memory is not None else ""
        result, _, _ = self._plan(self.planner, toolkit, instruction, fingerprint)
        result.tools = choice
        return result

    def _plan(self, llm: LLM, toolkit: Toolkit, instruction: str,
              fingerprint: str) -> tuple[PlanResult, int | None, list[str]]:
        """The stored plan of the same task on the same toolkit (``fingerprint``) when it
        still validates, else a new plan (with similar past runs as examples): (plan,
        reused run id, notes)."""
        notes: list[str] = []
        examples: tuple[str, ...] = ()
        if self.memory is not None:
            try:
                stored = self.memory.repeat(instruction, fingerprint)
                if stored is not None:
                    reused = _revalidated(stored.plan, toolkit, self.max_steps)
                    if reused is not None:
                        return PlanResult(reused, Usage(), 0, [stored.plan]), stored.id, notes
                similar = self.memory.similar(instruction, set(toolkit.names), self.memory_examples)
                examples = tuple(run.example() for run in similar)
            except RunStoreError as exc:
                notes.append(f"Memory was not used: {exc}")
        planner = Planner(llm, toolkit, self.grammar, self.max_steps, examples=examples,
                          keyword_arguments=self.keyword_arguments)
        return planner.plan(instruction), None, notes

    def run(self, instruction: str, on_event: Callable[[Event], None] | None = None) -> RunResult:
        """Plan, execute and solve ``instruction``.

        Raises:
            ConfigError: empty instruction.
            PlanInvalidError: no valid plan after one repair.
            LLMError: a backend failed while planning or solving.
            RunCancelled: Ctrl-C (the partial evidence is attached).
        """
        writer = TraceWriter(self.trace) if self.trace else None

        def emit(event: Event) -> None:
            if writer is not None:
                writer.write(event)
            if on_event is not None:
                on_event(event)

        started = time.perf_counter()
        planner, solver = MeteredLLM(self.planner), MeteredLLM(self.solver or self.planner)
        caller = MeteredLLM(self.caller) if self.caller is not None else None
        tools = MeteredLLM(self.solver or self.planner)
        try:
            emit(RunStarted(instruction))
            shown, choice = self.choose_tools(instruction)
            if choice is not None:
                emit(ToolsChosen(choice))
            fingerprint = self.toolkit.fingerprint() if self.memory is not None else ""  # once: it hashes every schema
            planned, reused_from, notes = self._plan(planner, shown, instruction, fingerprint)
            emit(PlanReady(planned.plan, planned.attempts, planned.usage, planned.merged, reused_from=reused_from,
                           retooled=planned.retooled))
            worker = Worker(self.toolkit, FunctionCaller(caller), self.max_workers, on_event=emit,
                            context=RunContext(llm=tools), confirm=self.confirm)
            evidence = worker.run(planned.plan)
            plan, replans = planned.plan, []
            completion = None
            while True:
                reasons = replan_reasons(plan, evidence)
                if not reasons:
                    completion = Solver(solver).solve(instruction, plan, evidence)
                    if completion.finish_reason == "fallback":
                        reasons = ["the solver could not answer the task from these results"]
                if not reasons or len(replans) >= self.max_replans:
                    break
                replanner = Replanner(planner, shown, self.grammar, self.max_steps, done=plan,
                                      evidence=evidence, reasons=reasons, keyword_arguments=self.keyword_arguments)
                try:
                    more = replanner.plan(instruction)
                except PlanInvalidError as exc:
                    notes.append(f"A replan was asked for ({'; '.join(reasons)}) but its plan was invalid "
                                 f"({'; '.join(exc.problems)}); the answer uses the evidence of the first "
                                 f"{len(replans) + 1} round(s).")
                    break
                if not more.plan.steps:  # every step it wrote had run already
                    notes.append(f"A replan was asked for ({'; '.join(reasons)}) but wrote only steps that had "
                                 "already run; the answer uses the evidence so far.")
                    break
                replans.append(Replan(len(replans) + 2, reasons, [s.id for s in more.plan.steps], more.attempts))
                emit(PlanReady(more.plan, more.attempts, more.usage, more.merged, len(replans) + 1, tuple(reasons),
                               retooled=more.retooled))
                evidence = evidence | worker.run(more.plan, prior=evidence)
                plan = Plan(plan.steps + more.plan.steps, plan.text + more.plan.text)
                completion = None
            if completion is None:
                completion = Solver(solver).solve(instruction, plan, evidence)
            answer = completion.text.strip()
            usage = {"planner": planner.usage, "caller": caller.usage if caller else Usage(),
                     "solver": solver.usage, "tools": tools.usage}
            seconds = time.perf_counter() - started
            run_id = self._remember(instruction, fingerprint, plan, evidence, answer, usage, seconds,
                                    completion.finish_reason != "fallback", notes)
            emit(AnswerReady(answer, solver.usage))
            return RunResult(instruction, plan, evidence, answer, usage, seconds, planned.attempts, planned.merged,
                             replans, notes, choice, reused_from, run_id, planned.retooled)
        finally:
            if writer is not None:
                writer.close()

    def _remember(self, instruction: str, fingerprint: str, plan: Plan, evidence: dict[str, Evidence], answer: str,
                  usage: dict[str, Usage], seconds: float, answered: bool, notes: list[str]) -> int | None:
        """Store the run; a store that fails costs a note, never the answer."""
        if self.memory is None:
            return None
        try:
            return self.memory.add(instruction, fingerprint, plan, evidence, answer,
                                   {role: u.to_dict() for role, u in usage.items()}, seconds, answered)
        except RunStoreError as exc:
            notes.append(f"This run was not stored: {exc}")
            return None

    def stream(self, instruction: str) -> Iterator[Event | RunResult]:
        """Run in a background thread, yielding events as they happen and the
        :class:`RunResult` last; an error of the run is raised from the iterator."""
        run: ThreadBridge[Event | RunResult] = ThreadBridge("foreplan-run")
        run.start(lambda emit: emit(self.run(instruction, on_event=emit)))
        yield from run


def _revalidated(text: str, toolkit: Toolkit, max_steps: int) -> Plan | None:
    """A stored plan, parsed and checked against the toolkit of today; None when it no
    longer fits (a tool gone or changed): then the task is planned again."""
    try:
        plan = parse_plan(text)
    except PlanError:
        return None
    return None if validate_plan(plan, toolkit, max_steps) else plan
