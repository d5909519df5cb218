"""``/v1/agent/runs``: the whole agent (plan → parallel steps → answer) over HTTP.

    POST /v1/agent/runs {"instruction", "stream", "max_steps", "max_replans", "toolkit", "all_tools", "planner", "solver"}
        stream=false → the result object of ``foreplan run --json`` plus ``id`` and ``status``
        stream=true  → SSE: each event's ``to_dict()`` (run_started, plan_ready,
                       step_started, step_finished, answer), a ``result`` event, ``[DONE]``
    GET  /v1/agent/runs      → this server session's runs, newest first (no events)
    GET  /v1/agent/runs/{id} → the run, finished or still running (events so far, and the
                               confirmations it waits for)
    POST /v1/agent/runs/{id}/confirmations/{step} {"approve", "reason"}
                             → answers a run started with "confirm": true, whose side-effect
                               step waits with a confirmation_required event (declined by
                               itself after confirm_timeout_s)
    GET  /v1/agent/toolkits  → the toolkits a run may name, with their tools

The agent uses the models served as ``planner`` (required), ``caller`` and ``solver``
(optional), or the aliases a request names, with the toolkit it names (``default``:
the built-in tools; ``create_app(toolkits=...)`` serves others). A streamed run executes in its own thread and
records into the run store, so it finishes, and can be fetched, even when the client
disconnects. Runs are kept in memory, bounded: the oldest finished run goes first.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from foreplan.agent import Agent, RunResult
from foreplan.bridge import ThreadBridge
from foreplan.events import ConfirmationRequired, Event
from foreplan.execute.confirm import Decision, SideEffectCall, confirm_policy
from foreplan.serve.errors import ConflictError, NotFoundError, describe
from foreplan.serve.models import GatedLLM, ModelPool, ServedModel, get_pool
from foreplan.serve.schemas import AgentRunRequest, ConfirmationAnswer
from foreplan.serve.settings import ServeSettings, get_settings
from foreplan.serve.streaming import sse, sse_responses
from foreplan.tools import Toolkit


@dataclass
class RunRecord:
    id: str
    instruction: str
    toolkit: str = "default"
    created: int = field(default_factory=lambda: int(time.time()))
    status: str = "running"
    """``running``, ``succeeded`` or ``failed``."""
    events: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    confirmations: dict[str, Confirmation] = field(default_factory=dict)
    """Side-effect steps that asked, by step id (answered ones stay, with their answer)."""

    def to_dict(self) -> dict[str, Any]:
        head = {"id": self.id, "object": "agent.run", "status": self.status, "created": self.created,
                "instruction": self.instruction, "toolkit": self.toolkit,
                "confirmations": [c.to_dict() for c in list(self.confirmations.values())]}
        if self.result is not None:
            head |= self.result
        if self.error is not None:
            head |= self.error
        return head | {"events": list(self.events)}


@dataclass
class Confirmation:
    """One side-effect call waiting for (or given) an answer."""

    call: SideEffectCall
    answered: threading.Event = field(default_factory=threading.Event)
    decision: Decision | None = None

    def to_dict(self) -> dict[str, Any]:
        state = "pending" if self.decision is None else ("approved" if self.decision.approved else "declined")
        return {"step": self.call.step.id, "tool": self.call.tool, "arguments": self.call.arguments,
                "sources": self.call.sources, "state": state}


class ServerConfirm:
    """A run's side-effect calls wait here until a POST answers them (or the timeout
    declines them); each question is also an event of the run."""

    def __init__(self, record: RunRecord, emit: Callable[[Event], None], timeout_s: float) -> None:
        self.record, self.emit, self.timeout_s = record, emit, timeout_s

    def __call__(self, call: SideEffectCall) -> Decision:
        waiting = Confirmation(call)
        self.record.confirmations[call.step.id] = waiting
        self.emit(ConfirmationRequired(call.step, call.tool, call.arguments, call.sources))
        if not waiting.answered.wait(self.timeout_s):
            waiting.decision = Decision(False, f"no answer within {self.timeout_s:g} s")
        return waiting.decision or Decision(False, "no answer")

    @staticmethod
    def answer(record: RunRecord, step: str, decision: Decision) -> Confirmation:
        """Raises NotFoundError (404) when nothing waits under ``step``, ConflictError (409)
        when it was already answered."""
        waiting = record.confirmations.get(step)
        if waiting is None:
            raise NotFoundError(f"Run {record.id} has no side-effect step {step!r} waiting for confirmation.",
                                param="step", code="confirmation_not_found")
        if waiting.decision is not None:
            raise ConflictError(f"Step {step} of run {record.id} was already answered.", param="step",
                                code="confirmation_answered")
        waiting.decision = decision
        waiting.answered.set()
        return waiting


class RunStore:
    """Runs by id, at most ``max_runs`` (running runs are never dropped)."""

    def __init__(self, max_runs: int) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, RunRecord] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, instruction: str, toolkit: str = "default") -> RunRecord:
        record = RunRecord(f"run_{uuid.uuid4().hex}", instruction, toolkit)
        with self._lock:
            self._runs[record.id] = record
            finished = [k for k, r in self._runs.items() if r.status != "running"]
            for key in finished[:max(0, len(self._runs) - self.max_runs)]:
                del self._runs[key]
        return record

    def get(self, run_id: str) -> RunRecord:
        """Raises NotFoundError (404) for an unknown or dropped id."""
        with self._lock:
            record = self._runs.get(run_id)
        if record is None:
            raise NotFoundError(f"No agent run {run_id!r} (unknown, or dropped after {self.max_runs} newer runs).",
                                param="id", code="run_not_found")
        return record

    def list(self) -> list[RunRecord]:
        """Every kept run, newest first."""
        with self._lock:
            return list(reversed(self._runs.values()))


def get_runs(request: Request) -> RunStore:
    return request.app.state.runs


def get_toolkits(request: Request) -> dict[str, Toolkit]:
    return request.app.state.toolkits


def _agent(pool: ModelPool, toolkits: dict[str, Toolkit], body: AgentRunRequest) -> tuple[Agent, ServedModel]:
    toolkit = toolkits.get(body.toolkit)
    if toolkit is None:
        raise NotFoundError(f"No toolkit {body.toolkit!r}; this server has: {', '.join(toolkits)}.",
                            param="toolkit", code="toolkit_not_found")
    planner = pool.get(body.planner) if body.planner else pool.find("planner")
    if planner is None:
        raise NotFoundError("Agent runs need a model served as 'planner' (foreplan serve --model planner=SPEC).",
                            param="model", code="model_not_found")
    caller, solver = pool.find("caller"), pool.get(body.solver) if body.solver else pool.find("solver")
    agent = Agent(GatedLLM(planner), toolkit, caller=GatedLLM(caller) if caller else None,
                  solver=GatedLLM(solver) if solver else None, max_steps=body.max_steps,
                  max_replans=body.max_replans)
    if body.all_tools:
        agent.max_tools = None
    return agent, planner


def _execute(agent: Agent, record: RunRecord, on_item: Any = None, confirm_timeout_s: float | None = None) -> RunResult:
    """Run the agent, recording events, result or error into ``record``; with
    ``confirm_timeout_s``, each side-effect call waits for a POSTed answer first."""
    def on_event(event: Event) -> None:
        record.events.append(event.to_dict())
        if on_item:
            on_item(event)

    # The toolkit's policy applies either way; a client that did not ask to answer cannot be asked.
    ask = ServerConfirm(record, on_event, confirm_timeout_s) if confirm_timeout_s is not None else None
    agent.confirm = confirm_policy(ask, ask is not None, agent.toolkit.confirm, agent.toolkit.auto_approve)

    try:
        result = agent.run(record.instruction, on_event=on_event)
    except Exception as exc:
        record.error = describe(exc)[1]
        record.status = "failed"
        raise
    record.result = result.to_dict()
    record.status = "succeeded"
    return result


router = APIRouter()


@router.post("/agent/runs", responses=sse_responses("one agent event object"))
async def create_run(body: AgentRunRequest, request: Request, pool: ModelPool = Depends(get_pool),
                     runs: RunStore = Depends(get_runs), toolkits: dict[str, Toolkit] = Depends(get_toolkits),
                     settings: ServeSettings = Depends(get_settings)) -> Any:
    agent, planner = _agent(pool, toolkits, body)
    agent.memory = request.app.state.memory
    timeout = settings.confirm_timeout_s if body.confirm else None
    # A run holds one place in the planner's queue while it lasts; a full queue is 429 at once.
    if not body.stream:
        with planner.queue.admit():
            record = runs.start(body.instruction, body.toolkit)
            await run_in_threadpool(_execute, agent, record, None, timeout)
        # The result object of `foreplan run --json`; the events are in GET .../{id}.
        return {k: v for k, v in record.to_dict().items() if k != "events"}

    with ExitStack() as held:
        held.enter_context(planner.queue.admit())
        record = runs.start(body.instruction, body.toolkit)
        run: ThreadBridge[Event | RunResult] = ThreadBridge(f"foreplan-{record.id}")
        # From here the run's thread holds the place, and gives it back when the run ends.
        run.start(lambda emit: emit(_execute(agent, record, emit, timeout)), holding=held.pop_all())

    async def events() -> AsyncIterator[str]:
        try:
            async for item in run:
                if isinstance(item, Event):
                    yield sse(item.to_dict() | {"id": record.id})
                else:
                    yield sse({"event": "result", "id": record.id, "status": record.status} | item.to_dict())
        except Exception as exc:  # already recorded in the run; reported in the stream
            yield sse(describe(exc)[1] | {"id": record.id})
        finally:
            run.close()  # the run goes on without the client, recorded in the store
        yield sse("[DONE]")

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/agent/runs")
def list_runs(runs: RunStore = Depends(get_runs)) -> dict[str, Any]:
    """Runs kept by this server, newest first, without their events (for the web page)."""
    keys = ("id", "object", "status", "created", "instruction", "toolkit", "answer", "seconds", "error")
    return {"object": "list", "data": [{k: v for k, v in r.to_dict().items() if k in keys} for r in runs.list()]}


@router.get("/agent/toolkits")
def list_toolkits(toolkits: dict[str, Toolkit] = Depends(get_toolkits)) -> dict[str, Any]:
    return {"object": "list", "data": [
        {"id": name, "object": "toolkit", "tools": [{"name": t.name, "description": t.description} for t in kit]}
        for name, kit in toolkits.items()]}


@router.get("/agent/runs/{run_id}")
def get_run(run_id: str, runs: RunStore = Depends(get_runs)) -> dict[str, Any]:
    return runs.get(run_id).to_dict()


@router.post("/agent/runs/{run_id}/confirmations/{step}")
def answer_confirmation(run_id: str, step: str, body: ConfirmationAnswer,
                        runs: RunStore = Depends(get_runs)) -> dict[str, Any]:
    """Approve or decline a side-effect step that waits (runs started with ``confirm``)."""
    decision = Decision(body.approve, "" if body.approve else (body.reason or "declined by the client"))
    return {"id": run_id} | ServerConfirm.answer(runs.get(run_id), step, decision).to_dict()
