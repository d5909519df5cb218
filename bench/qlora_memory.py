"""Peak GPU memory and seconds per step of QLoRA (4-bit NF4) against LoRA (bf16 weights).

    python bench/qlora_memory.py [--model qwen2.5-coder-0.5b] [--seq 512] [--batch 4] [--steps 8]
    python bench/qlora_memory.py --shape 1.5b --tokenizer DIR   # random weights of that shape

Both modes train through foreplan's own recipe (``run_training``: LoRA r=8 on every
linear layer, AdamW, loss on the response only, each mode's default gradient
checkpointing: off for LoRA, on for QLoRA) on the same synthetic alpaca rows, each
in a child process of its own so that the peak (``torch.cuda.max_memory_allocated``) is
that mode's alone. ``--shape`` builds a Qwen2.5 model of that size with random weights
(memory and speed depend on the shape, not the values) where the real weights are not
at hand, as on a lent GPU machine that carries only the tokenizer. Prints the table,
then the ratio LoRA peak / QLoRA peak (target ≥ 1.5: 4-bit weights are what QLoRA is
for) and foreplan's own estimate of each peak (``estimate_bytes``) beside what was
measured. Needs CUDA and bitsandbytes; without them it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import record  # bench/_results.py: collected by bench/run_all.py

#: Qwen2.5's published configurations (hidden, intermediate, layers, heads, kv heads, tied embeddings).
SHAPES = {"0.5b": (896, 4864, 24, 14, 2, True), "1.5b": (1536, 8960, 28, 12, 2, True),
          "3b": (2048, 11008, 36, 16, 2, True), "7b": (3584, 18944, 28, 28, 4, False)}


def random_model(shape: str, tokenizer_dir: str, folder: Path, device: str = "cuda") -> Path:
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    hidden, inter, layers, heads, kv, tied = SHAPES[shape]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(vocab_size=151936, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv, tie_word_embeddings=tied,
                         max_position_embeddings=32768, rope_theta=1e6, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, torch_dtype="bfloat16")
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_rows(folder: Path, seq: int) -> None:
    """Alpaca rows of about ``seq`` tokens (a word is a token here), a fifth of them the response."""
    words = "plan every step up front then call the tools and solve from the evidence".split()
    rows = []
    for i in range(64):
        prompt = " ".join(words[(i + k) % len(words)] for k in range(int(seq * 0.7)))
        answer = " ".join(words[(i * 3 + k) % len(words)] for k in range(int(seq * 0.2)))
        rows.append({"instruction": prompt, "input": "", "output": answer})
    (folder / "rows.json").write_text(json.dumps(rows))
    (folder / "dataset_info.json").write_text(json.dumps({"rows": {"file_name": "rows.json"}}))


def child(mode: str, model: str, data: Path, out: Path, seq: int, batch: int, steps: int) -> dict:
    import torch

    from foreplan.train.args import build_args
    from foreplan.train.recipe import run_training
    from foreplan.train.source import estimate_bytes, resolve_source

    args = ["--model_name_or_path", model, "--dataset", "rows", "--dataset_dir", str(data), "--template", "qwen",
            "--output_dir", str(out / mode), "--finetuning_type", mode, "--lora_target", "all",
            "--per_device_train_batch_size", str(batch), "--cutoff_len", str(seq), "--max_steps", str(steps),
            "--logging_steps", "1", "--save_steps", str(steps + 1), "--overwrite_output_dir"]
    torch.cuda.reset_peak_memory_stats()
    parsed = build_args(args)
    result = run_training(parsed, say=lambda m: None, progress=False)
    seconds = [r["seconds"] for r in result.history[1:]]  # the first step warms CUDA up
    source = resolve_source(model)
    return {"mode": mode, "peak": torch.cuda.max_memory_allocated(), "reserved": torch.cuda.max_memory_reserved(),
            "s_per_step": statistics.median(seconds), "loss": result.history[-1]["loss"],
            "first_loss": result.history[0]["loss"], "checkpointing": parsed.gradient_checkpointing,
            "estimate": estimate_bytes(source.parameters, mode, batch, seq, cuda=True,
                                       checkpointing=bool(parsed.gradient_checkpointing)),
            "parameters": source.parameters, "adapter": (out / mode / "adapter_model.safetensors").exists()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b", help="Embedded name, GGUF file or HF folder.")
    parser.add_argument("--shape", choices=sorted(SHAPES), help="Random Qwen2.5 weights of this size instead.")
    parser.add_argument("--tokenizer", help="Tokenizer folder for --shape (e.g. foreplan's cached Qwen tokenizer).")
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    opts = parser.parse_args()

    if opts.child:
        work = Path(opts.work)
        row = child(opts.child, opts.model, work / "data", work / "out", opts.seq, opts.batch, opts.steps)
        print("RESULT " + json.dumps(row), flush=True)
        return

    import importlib.util

    import torch

    if not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None:
        print("qlora_memory: needs a CUDA GPU and bitsandbytes (pip install 'foreplan[gpu]'); nothing measured.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        write_rows(work / "data", opts.seq)
        model = opts.model
        if opts.shape:
            if not opts.tokenizer:
                parser.error("--shape needs --tokenizer")
            model = str(random_model(opts.shape, opts.tokenizer, work / f"qwen2.5-{opts.shape}-random"))
            torch.cuda.empty_cache()
        rows = {}
        for mode in ("lora", "qlora"):
            done = subprocess.run([sys.executable, __file__, "--child", mode, "--work", str(work), "--model", model,
                                   "--seq", str(opts.seq), "--batch", str(opts.batch), "--steps", str(opts.steps)],
                                  capture_output=True, text=True, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                print(f"{mode} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
                sys.exit(1)
            rows[mode] = json.loads(lines[-1][len("RESULT "):])

    name = f"random Qwen2.5-{opts.shape} shape" if opts.shape else opts.model
    gpu = torch.cuda.get_device_name()
    print(f"\n{name} ({rows['lora']['parameters'] / 1e9:.2f}B parameters), LoRA r=8 on all linear layers, batch "
          f"{opts.batch} x {opts.seq} tokens, {opts.steps} steps, {gpu}\n")
    print("| mode | gradient checkpointing | peak allocated | peak reserved | foreplan's estimate | s/step (median) "
          "| loss first → last |")
    print("|---|---|---|---|---|---|---|")
    for mode, r in rows.items():
        print(f"| {mode} | {'on' if r['checkpointing'] else 'off'} | {r['peak'] / 2**30:.2f} GiB | {r['reserved'] / 2**30:.2f} GiB | "
              f"{r['estimate'] / 2**30:.2f} GiB | {r['s_per_step']:.3f} | {r['first_loss']:.3f} → {r['loss']:.3f} |")
    ratio = rows["lora"]["peak"] / rows["qlora"]["peak"]
    slower = rows["qlora"]["s_per_step"] / rows["lora"]["s_per_step"]
    print(f"\nLoRA / QLoRA peak memory: {ratio:.2f} (target >= 1.5); QLoRA / LoRA seconds per step: {slower:.2f}")
    record("qlora_memory", "peak GPU memory, LoRA ÷ QLoRA", ratio, "≥ 1.5", ratio >= 1.5,
           f"{name}, {opts.batch} x {opts.seq} tokens, {gpu}")


if __name__ == "__main__":
    main()
