"""Planner training data synthesized from toolkits (``foreplan data synth-plans``).

    entities.py   real names for the template slots (cities, companies, films, flights)
    tools.py      tools outside the default toolkit, offline and deterministic
    toolbox.py    tool names -> a Toolkit (built-ins, workspace tools, synthetic tools)
    specs.py      per tool: how people ask for a lookup and what a later step can use
    shapes.py     task shapes -> a candidate task with its reference plan
    plans.py      candidates through the checks (parse, validate, grammar, execute)
    dataset.py    alpaca JSONL, dataset_info.json, the held-out task file

An entry-level package: it may import every layer below it; only the CLI and the
evaluation import it.
"""

from foreplan.synth.plans import Example, PlanSynthesizer, SynthReport, render_plan, synthesize
from foreplan.synth.toolbox import ALL_TOOL_NAMES, StubLLM, Toolbox
from foreplan.synth.tools import HELDOUT_TOOLS, SYNTH_TOOLS

__all__ = ["ALL_TOOL_NAMES", "HELDOUT_TOOLS", "SYNTH_TOOLS", "Example", "PlanSynthesizer", "StubLLM", "SynthReport",
           "Toolbox", "render_plan", "synthesize"]
