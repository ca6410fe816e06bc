#!/usr/bin/python3
"""Times PyTorch training epochs of one of synergo's models (torch_models.py),
with or without the synergy regularizer, on random data of a synthetic
preset's shapes and sizes (word counts drawn like datasets.Synthetic's:
log-normal around the preset's median, clamped to [1, T]; the arithmetic of a
step depends on the shapes and lengths, not on the values), then the
throughput of the evaluation forward pass over the same data. Prints one JSON
line: per-epoch wall and CPU seconds, inference samples per second, the peak
RSS.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_epoch.py --model tfn --preset mosi --reg mmd --threads 1
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F

import torch_models as tm

BERT_MODELS = ("magbert", "misa", "mmim")


def synthetic(model, preset, scale, seed):
    """Random data of the preset: word-aligned sequences with log-normal word
    counts, masked-mean weights, token-id rows [CLS] words [SEP] padding for
    the BERT-based models, labels in [−3, 3]."""
    n, T, dims, median, sigma = tm.PRESETS[preset]
    n = max(8, round(n * scale))
    g = torch.Generator().manual_seed(seed)
    lengths = torch.exp(math.log(median) + sigma * torch.randn(n, generator=g)).round().clamp(1, T).long()
    mask = (torch.arange(T).view(1, T) < lengths.view(n, 1)).float()
    data = {
        "xs": [torch.randn(n, T, d, generator=g) * mask.unsqueeze(2) for d in dims],
        "lengths": lengths,
        "weights": mask / lengths.view(n, 1).float(),
        "labels": torch.rand(n, generator=g) * 6 - 3,
        "tokens": None, "token_mask": None, "token_weights": None,
    }
    if model in BERT_MODELS:
        L = tm.TOKEN_LEN
        words = lengths.clamp(max=L - 2)
        pos = torch.arange(L).view(1, L)
        ids = 1000 + torch.randint(0, 2000, (n, L), generator=g)
        ids = torch.where(pos <= words.view(n, 1), ids, torch.zeros_like(ids))
        ids[:, 0] = 101
        ids.scatter_(1, (words + 1).view(n, 1), 102)
        tmask = (ids != 0).float()
        data.update(tokens=ids, token_mask=tmask, token_weights=tmask / tmask.sum(1, keepdim=True))
    return data


class Batch:
    """A batch of the data (torch_models.Batch's fields); MAG-BERT's audio
    and vision frames at the token positions are made per batch (token p
    carries step p−1, [CLS] a zero row)."""

    def __init__(self, data, idx, model):
        self.xs = [x[idx] for x in data["xs"]]
        self.lengths = data["lengths"][idx]
        self.weights = data["weights"][idx]
        self.labels = data["labels"][idx]
        self.tokens = self.token_mask = self.token_weights = self.audio_tok = self.vision_tok = None
        if data["tokens"] is not None:
            self.tokens, self.token_mask = data["tokens"][idx], data["token_mask"][idx]
            self.token_weights = data["token_weights"][idx]
        if model == "magbert":
            L = tm.TOKEN_LEN
            self.audio_tok, self.vision_tok = (F.pad(x, (0, 0, 1, 0))[:, :L] for x in self.xs[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=tm.MODELS, required=True)
    ap.add_argument("--preset", choices=list(tm.PRESETS), default="mosi")
    ap.add_argument("--reg", choices=["none", "mmd", "kl"], default="none")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1, help="the last is reported")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--infer-batches", type=int, default=0,
                    help="evaluation batches to time after training (0: every full batch of the data)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = synthetic(a.model, a.preset, a.scale, a.seed)
    model, c = tm.build(a.model, a.preset)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=c["lr"], weight_decay=c["wd"])
    reg = creg_opt = None
    beta = 0.1
    n, B = len(data["labels"]), c["batch"]
    if a.reg != "none":
        model.eval()
        with torch.no_grad():
            zs, z, _, _ = model(Batch(data, torch.arange(min(n, 4)), a.model))
        if hasattr(model, "memory"):
            model.memory = None
        reg = tm.Synergy([t.shape[1] for t in zs], z.shape[1], a.reg)
        creg_opt = torch.optim.AdamW(reg.parameters(), lr=1e-3, weight_decay=0.0)
    epochs = []
    for epoch in range(a.epochs):
        model.train()
        w0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n)
        steps = 0
        for s in range(0, n, B):
            idx = perm[s:s + B]
            if len(idx) < 2:
                continue
            b = Batch(data, idx, a.model)
            zs, z, pred, aux = model(b)
            loss = F.mse_loss(pred, b.labels)
            if aux is not None:
                loss = loss + aux
            if reg is not None:
                loss = loss + beta * reg(zs, z)
            opt.zero_grad(set_to_none=True)
            if creg_opt is not None:
                creg_opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_value_(params, 5)
            opt.step()
            if reg is not None:
                for name, p in reg.named_parameters():
                    if p.grad is not None:
                        p.grad.mul_(-1 / beta if name.startswith("critics") else 1 / beta)
                torch.nn.utils.clip_grad_value_(reg.parameters(), 5)
                creg_opt.step()
                reg.after_step()
            steps += 1
        epochs.append({"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0, "steps": steps})
    model.eval()
    full = n // B if a.infer_batches == 0 else min(a.infer_batches, n // B)
    w0 = time.perf_counter()
    with torch.no_grad():
        for i in range(full):
            model(Batch(data, torch.arange(i * B, (i + 1) * B), a.model))
    infer_s = time.perf_counter() - w0
    print(json.dumps({
        "impl": "torch", "model": a.model, "preset": a.preset, "reg": a.reg, "threads": a.threads,
        "scale": a.scale, "batch": B, "torch": torch.__version__, "epochs": epochs,
        "infer_samples": full * B, "infer_wall_s": infer_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
