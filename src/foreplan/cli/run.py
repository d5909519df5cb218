"""``foreplan run`` and ``foreplan plan``: one instruction, planned (and run and solved).

    foreplan run "How many days are left this year, squared?"      live view, then the answer
    foreplan run "..." --json                                       one JSON object
    foreplan plan "..." --json                                      only the plan
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from foreplan.cli.common import (
    AllToolsOpt, AllowUntrustedOpt, CallerOpt, MemoryOpt, DebugOpt, GrammarOpt, JsonOpt, KeywordArgumentsOpt, ModelOpt, PlannerOpt, ReplansOpt, StepsOpt, ToolkitOpt, ToolsOpt,
    build_agent,
    check_instruction, err, errors, out,
)
from foreplan.llm.registry import DEFAULT_CALLER, DEFAULT_PLANNER

TraceOpt = Annotated[Path | None, typer.Option("--trace", help="Write every event as JSON lines to this file.")]


def run(
    instruction: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: ModelOpt = DEFAULT_PLANNER,
    planner: PlannerOpt = None,
    caller_model: CallerOpt = DEFAULT_CALLER,
    tools: ToolsOpt = None,
    toolkit: ToolkitOpt = None,
    grammar: GrammarOpt = True,
    keyword_arguments: KeywordArgumentsOpt = False,
    as_json: JsonOpt = False,
    max_steps: StepsOpt = 6,
    max_replans: ReplansOpt = 1,
    all_tools: AllToolsOpt = False,
    memory: MemoryOpt = True,
    trace: TraceOpt = None,
    allow_untrusted: AllowUntrustedOpt = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="Ask before each side-effect call (declined when there is no terminal).")] = False,
    debug: DebugOpt = False,
) -> None:
    """Plan, run the steps (in parallel where possible), and answer."""
    from foreplan.cli.view import RunView, TerminalConfirm
    from foreplan.execute.confirm import confirm_policy

    with errors(as_json, debug):
        check_instruction(instruction)
        agent = build_agent(model, caller_model, tools, grammar, max_steps, trace, toolkit, planner, allow_untrusted,
                            max_replans, all_tools, memory, keyword_arguments)
        policy = (agent.toolkit.confirm, agent.toolkit.auto_approve)
        if as_json:
            agent.confirm = confirm_policy(TerminalConfirm(err), confirm, *policy)
            result = agent.run(instruction)
            out.print_json(json.dumps(result.to_dict(), ensure_ascii=False))
            return
        with RunView(out) as view:
            agent.confirm = confirm_policy(TerminalConfirm(out, view), confirm, *policy)
            result = agent.run(instruction, on_event=view)
        out.print()
        for note in result.notes:
            err.print(f"[yellow]Note:[/] {note}", highlight=False)
        if result.reused_from is not None:
            err.print(f"[dim]Reused the plan of run {result.reused_from} (the same task on the same tools; "
                      "--no-memory plans afresh).[/]", highlight=False)
        out.print(f"[bold]Answer:[/] {result.answer}", highlight=False)
        u = result.usage
        out.print(
            f"[dim]{result.seconds:.1f}s · tokens (seconds in the model): "
            + ", ".join(f"{role} {u[role].prompt_tokens}+{u[role].completion_tokens} ({u[role].seconds:.1f}s)"
                        for role in ("planner", "caller", "solver", "tools")) + "[/]", highlight=False,
        )


def plan(
    instruction: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: ModelOpt = DEFAULT_PLANNER,
    planner: PlannerOpt = None,
    tools: ToolsOpt = None,
    toolkit: ToolkitOpt = None,
    grammar: GrammarOpt = True,
    keyword_arguments: KeywordArgumentsOpt = False,
    as_json: JsonOpt = False,
    max_steps: StepsOpt = 6,
    all_tools: AllToolsOpt = False,
    memory: MemoryOpt = True,
    debug: DebugOpt = False,
) -> None:
    """Write the plan without running it."""
    with errors(as_json, debug):
        check_instruction(instruction)
        # No caller: nothing is called, so no caller model is loaded.
        agent = build_agent(planner or model, None, tools, grammar, max_steps, toolkit_file=toolkit, all_tools=all_tools,
                            memory=memory, keyword_arguments=keyword_arguments)
        result = agent.plan(instruction)
        if as_json:
            out.print_json(json.dumps({
                "instruction": instruction, "tools": result.tools.to_dict() if result.tools else None,
                "plan": [s.to_dict() for s in result.plan.steps],
                "text": result.plan.text, "attempts": result.attempts, "merged_steps": result.merged,
                "retooled_steps": result.retooled, "usage": result.usage.to_dict(),
            }, ensure_ascii=False))
        else:
            if result.tools:
                from foreplan.cli.view import tools_chosen_line

                err.print(f"[dim]{tools_chosen_line(result.tools)}[/]", highlight=False)
            out.print(result.plan.render().rstrip(), highlight=False, markup=False)
