"""Plan decoding speed with and without the plan grammar, same model, same prompt, same run.

    python bench/plan_decode.py [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--repeats 3]

The planner prompt is evaluated once and then reused from llama.cpp's KV cache (the
prompt is identical every call), so the times below are decoding times. Ratio =
constrained tokens/s ÷ unconstrained tokens/s; the target is ≥ 0.9. The llama.cpp
GBNF column is llama.cpp's own grammar sampler (the baseline foreplan replaces); "same"
says whether both constrained paths wrote the same plan. The "whole names" column adds
the planner's tool-name choices (llm/choice.py: each step's tool by the likelihood of its
whole name); its ratio is ÷ the grammar alone (target ≥ 0.9), and "changed" says whether
it wrote another plan.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.resolve import resolve_model
from foreplan.plan.grammar import plan_grammar, tool_choices
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit

TASK = "How many days are left until the end of this year, and what is that number squared?"
TARGET = 0.9


def tokens_per_second(llm, messages, options, repeats: int) -> tuple[float, int, str]:
    llm.generate(messages, options)  # warm-up: fills the KV cache with the prompt
    rates, tokens, text = [], 0, ""
    for _ in range(repeats):
        started = time.perf_counter()
        out = llm.generate(messages, options)
        elapsed = time.perf_counter() - started
        rates.append(out.usage.completion_tokens / elapsed)
        tokens, text = out.usage.completion_tokens, out.text
    return statistics.median(rates), tokens, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=160)
    args = parser.parse_args()

    toolkit = default_toolkit()
    rows = []
    for name in args.models.split(","):
        llm = resolve_model(name)
        messages = Planner(llm, toolkit).prompt(TASK)
        free = GenerationOptions(max_tokens=args.max_tokens)
        grammar = plan_grammar(toolkit, 6)
        constrained = GenerationOptions(max_tokens=args.max_tokens, constraint=Constraint(grammar=grammar))
        chosen = GenerationOptions(max_tokens=args.max_tokens,
                                   constraint=Constraint(grammar=grammar, choices=tool_choices(toolkit)))
        llama_cpp_gbnf = LlamaCppLLM(llm.path, fast_grammar=False)  # same loaded model
        free_rate, free_tokens, _ = tokens_per_second(llm, messages, free, args.repeats)
        slow_rate, _, slow_text = tokens_per_second(llama_cpp_gbnf, messages, constrained, args.repeats)
        gram_rate, gram_tokens, text = tokens_per_second(llm, messages, constrained, args.repeats)
        whole_rate, _, whole_text = tokens_per_second(llm, messages, chosen, args.repeats)
        steps = sum(1 for line in text.splitlines() if line.startswith("#E"))  # a plan cut at max_tokens counts
        rows.append((name, free_rate, free_tokens, slow_rate, gram_rate, gram_tokens, steps,
                     gram_rate / free_rate, slow_rate / free_rate, text == slow_text, whole_rate / gram_rate,
                     whole_text != text))

    header = (f"{'model':<20} {'free tok/s':>10} {'tokens':>6} {'llama.cpp GBNF':>14} {'foreplan':>9} "
              f"{'tokens':>6} {'steps':>5} {'GBNF ratio':>10} {'ratio':>6} {'same':>5} {'whole names':>11} "
              f"{'changed':>7}  target ≥ {TARGET}")
    print(header)
    print("-" * len(header))
    ok = True
    for name, fr, ft, sr, gr, gt, steps, ratio, slow_ratio, same, whole, changed in rows:
        verdict = "PASS" if ratio >= TARGET and same and whole >= TARGET else "FAIL"
        ok &= verdict == "PASS"
        print(f"{name:<20} {fr:>10.1f} {ft:>6} {sr:>14.1f} {gr:>9.1f} {gt:>6} {steps:>5} {slow_ratio:>10.2f} "
              f"{ratio:>6.2f} {str(same):>5} {whole:>11.2f} {str(changed):>7}  {verdict}")
        record("plan_decode", f"plan tokens/s, grammar ÷ free ({name})", ratio, f"≥ {TARGET}",
               ratio >= TARGET and same, f"{gr:.1f} vs {fr:.1f} tok/s; llama.cpp's GBNF sampler {slow_ratio:.2f}; "
               f"same plan {same}")
        record("plan_decode", f"plan tokens/s, whole tool names ÷ grammar ({name})", whole, f"≥ {TARGET}",
               whole >= TARGET, f"plan changed {changed}")
    print("overall:", "PASS" if ok else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
