"""``foreplan eval``: end-to-end QA on real third-party data, ReWOO against a ReAct baseline.

    datasets.py  gsm8k / hotpotqa / sotu ──► Example(id, question, answer, kind)
    react.py     the Thought / Action / Observation baseline on the same LLM and tools
    qa.py        run both strategies on the same questions, score, count tokens and time
    metrics.py   HotpotQA's exact match and F1, GSM8K numeric accuracy

This package is an entry point: it may import every layer, and nothing imports it.
"""

from foreplan.eval.datasets import DATASETS, Example, load_examples
from foreplan.eval.metrics import exact_match, f1_score, gsm8k_gold, normalize_answer, numeric_match
from foreplan.eval.qa import STRATEGIES, Report, run_qa
from foreplan.eval.react import ReActResult, ReActStep, run_react

__all__ = [
    "DATASETS", "STRATEGIES", "Example", "ReActResult", "ReActStep", "Report", "exact_match", "f1_score",
    "gsm8k_gold", "load_examples", "normalize_answer", "numeric_match", "run_qa", "run_react",
]
