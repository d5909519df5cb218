"""ReWOO's work after the plan (the LLM tool and the solver), as it was and with each
speed change: tokens, seconds and answer quality on the same plans (issue 19).

    python bench/rewoo_answers.py [--dataset sotu|hotpotqa] [--questions 20] [--model qwen2.5-coder-1.5b]

The plans are the ones committed in ``docs/eval/<dataset>-1.5b/results.jsonl`` (ReWOO
rows), so both variants run exactly the same steps: the search tool is offline and
deterministic, and only the ``LLM`` tool's answers and the solver differ. Variants:

    off     the LLM tool as it was (256 tokens, whole evidence); the solver's evidence cut
            blindly at 2,000 characters
    brief   LLM-tool answers budgeted by the question's form (tools/llm_tool.py)
    focus   brief, and evidence cut to its sentences that best match the step (llm/focus.py):
            1,200 characters per reference for the LLM tool, 1,000 per step for the solver
    leaves  brief, and the solver reads only 400 characters of evidence a later step already
            read (Solver.used_evidence_chars); the results nothing builds on stay whole

Per question the variants run in a rotating order, in one process on one warm model, so
drift on a noisy machine falls on all. Reported per variant: the LLM tool's and the
solver's tokens (prompt + written) and seconds, and EM / F1 of the answer. A change is
kept only where it wins: fewer seconds than off, with EM and F1 not lower.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.eval.datasets import DEFAULT_DATA_DIR, load_examples
from foreplan.eval.qa import build_toolkit, score
from foreplan.execute.dag import Worker
from foreplan.llm.base import warm_up
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.meter import MeteredLLM
from foreplan.llm.registry import get_model, pull
from foreplan.plan.parse import parse_plan
from foreplan.solve import Solver
from foreplan.tools.context import RunContext
from foreplan.tools.llm_tool import make_llm_tool
from foreplan.tools.toolkit import Toolkit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    tool_tokens: int = 0
    tool_written: int = 0
    solver_tokens: int = 0
    seconds: float = 0.0
    em: int = 0
    f1: float = 0.0
    answers: list[str] = field(default_factory=list)


VARIANTS = {  # name: (brief LLM-tool answers, LLM tool evidence chars, solver evidence chars,
    #                 solver chars for evidence a later step read)
    "off": (False, None, None, None),  # no focus: the solver cuts blindly at 2,000 characters, as before
    "brief": (True, None, None, None),
    "focus": (True, 1200, 1000, None),
    "leaves": (True, None, None, 400),
}


def answer(llm: LlamaCppLLM, base: Toolkit, variant: str, question: str,
           plan_text: str) -> tuple[str, int, int, int, float]:
    brief, tool_chars, solver_chars, used_chars = VARIANTS[variant]
    tools = [t for t in base if t.name != "LLM"] + [make_llm_tool(brief=brief, evidence_chars=tool_chars)]
    metered = MeteredLLM(llm)  # counts what the LLM tool asks of the model
    started = time.perf_counter()
    plan = parse_plan(plan_text)
    evidence = Worker(Toolkit(tools), context=RunContext(llm=metered)).run(plan)
    completion = Solver(llm, evidence_chars=solver_chars, used_evidence_chars=used_chars).solve(question, plan, evidence)
    solver = completion.usage.prompt_tokens + completion.usage.completion_tokens
    used = metered.usage
    return (completion.text.strip(), used.prompt_tokens + used.completion_tokens, used.completion_tokens, solver,
            time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="sotu", choices=("sotu", "hotpotqa"))
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated, off first (the baseline): e.g. off,brief,leaves")
    args = parser.parse_args()
    results = ROOT / "docs" / "eval" / f"{args.dataset}-1.5b" / "results.jsonl"
    plans = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["strategy"] == "rewoo" and row.get("detail", {}).get("plan"):
            plans[row["id"]] = row["detail"]["plan"]
    data_dir = ROOT / DEFAULT_DATA_DIR  # the shared data folder, beside the repository
    examples = [e for e in load_examples(args.dataset, data_dir) if e.id in plans][: args.questions]
    llm = LlamaCppLLM(pull(get_model(args.model)))
    warm_up(llm)  # loading the weights is no variant's time
    base = build_toolkit(args.dataset, data_dir)
    names = args.variants.split(",")
    if names[0] != "off" or not set(names) <= set(VARIANTS):
        parser.error(f"--variants: off first, then any of {', '.join(VARIANTS)}")
    tallies = {name: Tally() for name in names}
    for i, example in enumerate(examples):
        for name in names[i % len(names):] + names[: i % len(names)]:
            text, tool_tokens, written, solver, seconds = answer(llm, base, name, example.question, plans[example.id])
            right, f1 = score(example, text)
            t = tallies[name]
            t.tool_tokens += tool_tokens
            t.tool_written += written
            t.solver_tokens += solver
            t.seconds += seconds
            t.em += int(right)
            t.f1 += f1 or 0.0
            t.answers.append(text)
        print(f"{example.id}: " + " | ".join(f"{n} {tallies[n].answers[-1][:50]!r}" for n in names), flush=True)
    n = len(examples)
    print(f"\n{args.dataset}, {n} questions, committed ReWOO plans, {args.model} as LLM tool and solver")
    print("| variant | LLM tool tokens/q | written/q | solver tokens/q | s/q | EM | F1 | s ÷ off | same answers as off |")
    print("|---|---|---|---|---|---|---|---|---|")
    off = tallies["off"]
    for name, t in tallies.items():
        same = sum(a == b for a, b in zip(off.answers, t.answers, strict=True))
        print(f"| {name} | {t.tool_tokens / n:.0f} | {t.tool_written / n:.0f} | {t.solver_tokens / n:.0f} | "
              f"{t.seconds / n:.1f} | {t.em / n:.2f} | {t.f1 / n:.2f} | {t.seconds / off.seconds:.2f}x | {same}/{n} |")
    for name in names[1:]:
        t = tallies[name]
        ratio = t.seconds / off.seconds
        keep = ratio < 1.0 and t.em >= off.em and t.f1 >= off.f1 - 1e-9
        record("rewoo_answers", f"seconds after the plan, {name}/off ({args.dataset})", ratio,
               "< 1.0 at equal EM/F1", keep, f"EM {off.em}/{n} → {t.em}/{n}, F1 {off.f1 / n:.2f} → {t.f1 / n:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
