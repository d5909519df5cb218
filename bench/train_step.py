"""Seconds per LoRA step through foreplan's recipe vs a plain transformers + peft loop.

    python bench/train_step.py [--model qwen2.5-coder-0.5b] [--seq 512] [--steps 3]

Both loops train the same PEFT model (LoRA r=8 on q_proj,v_proj, AdamW) on the same
batch in the same process, alternating so machine noise hits both: foreplan computes
logits only where a label is (``logits_to_keep``), the plain loop passes ``labels=`` to
the model as the transformers examples do. Prints s/step, tokens/s and the growth of
RSS during each loop, then the ratio plain / foreplan (target ≥ 1.0: not slower), and
the memory of the dequantized bf16 weights against the packed GGUF file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from _results import record  # bench/_results.py: collected by bench/run_all.py


class PeakRSS:
    """Highest RSS of this process while the block runs (sampled every 10 ms)."""

    def __enter__(self) -> PeakRSS:
        import psutil

        self._proc = psutil.Process(os.getpid())
        self.start = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--prompt-share", type=float, default=0.8, help="Part of the sequence that is prompt.")
    parser.add_argument("--steps", type=int, default=3)
    opts = parser.parse_args()

    import psutil
    import torch

    from foreplan.train.args import build_args
    from foreplan.train.batches import loss_on_labels
    from foreplan.train.setup import load_model, make_trainable
    from foreplan.train.source import resolve_source

    source = resolve_source(opts.model)
    before = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    base = load_model(source, cuda=False, quantize_4bit=False)
    load_s = time.perf_counter() - t0
    weights_rss = psutil.Process().memory_info().rss - before
    args = build_args(["--model_name_or_path", opts.model, "--dataset", "x", "--output_dir", "x",
                       "--lora_target", "q_proj,v_proj"])
    model = make_trainable(base, args)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    torch.manual_seed(0)
    ids = torch.randint(100, 20000, (1, opts.seq))
    labels = ids.clone()
    labels[:, : int(opts.seq * opts.prompt_share)] = -100
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}

    def foreplan_step() -> None:
        loss, _ = loss_on_labels(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def plain_step() -> None:
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    loops = {"foreplan train": foreplan_step, "transformers + peft": plain_step}
    times: dict[str, list[float]] = {name: [] for name in loops}
    peaks: dict[str, int] = {name: 0 for name in loops}
    for fn in loops.values():  # warm-up
        fn()
    for _ in range(opts.steps):
        for name, fn in loops.items():
            with PeakRSS() as rss:
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
            peaks[name] = max(peaks[name], rss.peak - rss.start)

    file_size = (source.folder / source.gguf_file).stat().st_size if source.gguf_file else 0
    print(f"\n{opts.model}: LoRA r=8 q_proj,v_proj, batch 1 x {opts.seq} tokens "
          f"({int(opts.seq * (1 - opts.prompt_share))} labelled), {opts.steps} steps each, torch threads "
          f"{torch.get_num_threads()}; weights loaded in {load_s:.0f} s\n")
    print("| loop | s/step (median) | tokens/s | RSS growth in a step |")
    print("|---|---|---|---|")
    for name in loops:
        s = statistics.median(times[name])
        print(f"| {name} | {s:.2f} | {opts.seq / s:.0f} | {peaks[name] / 2**20:,.0f} MiB |")
    ratio = statistics.median(times["transformers + peft"]) / statistics.median(times["foreplan train"])
    print(f"\nplain / foreplan seconds per step: {ratio:.2f} (target >= 1.0)")
    record("train_step", "s/step, transformers + peft ÷ foreplan train", ratio, "≥ 1.0", ratio >= 1.0,
           f"{opts.model}, 1 x {opts.seq} tokens, {opts.steps} steps each")
    print(f"weights in memory: dequantized bf16 {weights_rss / 2**20:,.0f} MiB vs packed GGUF file "
          f"{file_size / 2**20:,.0f} MiB (transformers' packed GGUF path needs its `kernels` package and a GGUF "
          "matmul kernel for the device; on this CPU it dequantizes)")


if __name__ == "__main__":
    main()
