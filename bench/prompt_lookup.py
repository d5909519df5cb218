"""Does prompt-lookup decoding make the solver faster? Same prompts, both ways, one run.

    python bench/prompt_lookup.py [--model qwen2.5-coder-1.5b] [--questions 8]

The solver prompts are real: HotpotQA questions (``../shared/data``), each planned as two
``search_wiki`` steps whose evidence comes from the offline index of the sample's own
paragraphs (the same tools ``foreplan eval qa`` uses). Every prompt is answered greedily
plain and with prompt lookup in a few draft settings, rotating which goes first so all
share the machine's noise; the prompt is evaluated (and cached) before either is timed, so the
times are generation only. Prints tokens/s each way, the ratio (target: > 1, else
prompt lookup is not worth keeping for the solver), model passes per token, and whether
the answers are identical.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.eval.datasets import load_examples
from foreplan.eval.qa import build_toolkit
from foreplan.llm import decode, lookup
from foreplan.llm.base import GenerationOptions
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
from foreplan.solve import Solver
from foreplan.types import Evidence, Plan, Status, Step

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def solver_prompts(n: int, index_dir: Path) -> list[list[dict[str, str]]]:
    toolkit = build_toolkit("hotpotqa", DATA_DIR, index_dir)
    search = toolkit.get("search_wiki")
    prompts = []
    for example in load_examples("hotpotqa", DATA_DIR, limit=n):
        question = example.question
        steps = (Step("E1", "Search for the question's first subject.", "search_wiki", question),
                 Step("E2", "Search for what the question asks about it.", "search_wiki", question[len(question) // 2:]))
        evidence = {s.id: Evidence(s.id, Status.OK, search(query=s.input)) for s in steps}
        prompts.append(Solver(None).prompt(question, Plan(steps), evidence))  # type: ignore[arg-type]
    return prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=Solver(None).max_tokens)  # type: ignore[arg-type]
    parser.add_argument("--configs", nargs="+", default=["3/3", "6/3", "3/2", "10/1"],
                        help="MAX_DRAFT/MIN_NGRAM pairs to try")
    args = parser.parse_args()

    llm = LlamaCppLLM(pull(get_model(args.model)))
    prompts = solver_prompts(args.questions, Path(tempfile.mkdtemp(prefix="bench-lookup-")))
    passes: list[int] = []
    evaluate_all = lookup._evaluate_all
    lookup._evaluate_all = lambda llama, batch: passes.append(len(batch)) or evaluate_all(llama, batch)
    ways = ["plain", *args.configs]
    rate: dict[str, list[float]] = {w: [] for w in ways}
    per_token: dict[str, list[float]] = {w: [] for w in ways}
    same: dict[str, int] = {w: 0 for w in ways}

    for i, messages in enumerate(prompts):
        llm.generate(messages, GenerationOptions(max_tokens=1))  # prompt evaluated and cached, untimed
        texts = {}
        for way in ways[i % len(ways):] + ways[: i % len(ways)]:  # rotate who goes first
            if way != "plain":
                max_draft, min_ngram = (int(x) for x in way.split("/"))
                decode.lookup_tokens = partial(lookup.lookup_tokens, max_draft=max_draft, min_ngram=min_ngram)
            passes.clear()
            started = time.perf_counter()
            out = llm.generate(messages, GenerationOptions(max_tokens=args.max_tokens, prompt_lookup=way != "plain"))
            seconds = time.perf_counter() - started
            rate[way].append(out.usage.completion_tokens / seconds)
            per_token[way].append(len(passes) / max(out.usage.completion_tokens, 1) if way != "plain" else 1.0)
            texts[way] = out.text
        for way in ways:
            same[way] += texts[way] == texts["plain"]
        print(f"{i + 1:>2}  {out.usage.completion_tokens:>4} tok  " + "  ".join(
            f"{w} {rate[w][-1]:.2f}" for w in ways), flush=True)

    plain = statistics.mean(rate["plain"])
    print(f"\n# prompt lookup for the solver: {args.model}, {len(prompts)} HotpotQA solver prompts\n")
    print("| way (max draft / min n-gram) | tokens/s (mean) | ratio to plain | model passes per token | same answers |")
    print("|---|---|---|---|---|")
    for way in ways:
        print(f"| {way} | {statistics.mean(rate[way]):.2f} | {statistics.mean(rate[way]) / plain:.2f} | "
              f"{statistics.mean(per_token[way]):.2f} | {same[way]}/{len(prompts)} |")
        if way != "plain":
            ratio = statistics.mean(rate[way]) / plain
            record("prompt_lookup", f"solver tokens/s, lookup {way} ÷ plain ({args.model})", ratio, "> 1.0",
                   ratio > 1.0, f"passes/token {statistics.mean(per_token[way]):.2f}, same {same[way]}/{len(prompts)}")


if __name__ == "__main__":
    sys.exit(main())
