#!/usr/bin/python3
"""Times PyTorch training epochs of EF-LSTM or TFN, with or without the
synergy regularizer, on random data of a synthetic preset's shapes (the
arithmetic of a step does not depend on the values). Prints one JSON line:
per-epoch wall and CPU seconds, and the peak RSS.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_epoch.py --model tfn --preset mosi --reg mmd --threads 1
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

import torch_models as tm


def synthetic(preset, scale, seed):
    n, T, dims = tm.PRESETS[preset]
    n = max(8, round(n * scale))
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (n,), generator=g)
    mask = (torch.arange(T).view(1, T) < lengths.view(n, 1)).float()
    xs = [torch.randn(n, T, d, generator=g) * mask.unsqueeze(2) for d in dims]
    weights = [mask / lengths.view(n, 1).float()] * 3  # word-aligned: one length per sample
    labels = torch.rand(n, generator=g) * 6 - 3
    return xs, lengths, weights, labels


def build(model, preset):
    _, T, dims = tm.PRESETS[preset]
    if model == "eflstm":
        c = tm.EFLSTM_CFG[preset]
        return tm.EFLSTM(list(dims), T, c["hidden"], c["layers"], c["dropout"]), c
    c = tm.TFN_CFG[preset]
    return tm.TFN(dims, c), c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["eflstm", "tfn"], required=True)
    ap.add_argument("--preset", choices=["mosi", "mosei"], default="mosi")
    ap.add_argument("--reg", choices=["none", "mmd", "kl"], default="none")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1, help="the last is reported")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xs, lengths, weights, labels = synthetic(a.preset, a.scale, a.seed)
    model, c = build(a.model, a.preset)
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], weight_decay=c["wd"])
    reg = creg_opt = None
    beta = 0.1
    if a.reg != "none":
        with torch.no_grad():
            zs, z, _ = model([x[:2] for x in xs], lengths[:2], [w[:2] for w in weights])
        reg = tm.Synergy([t.shape[1] for t in zs], z.shape[1], a.reg)
        creg_opt = torch.optim.AdamW(reg.parameters(), lr=1e-3, weight_decay=0.0)
    n, B = len(labels), c["batch"]
    epochs = []
    model.train()
    for epoch in range(a.epochs):
        w0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n)
        steps = 0
        for s in range(0, n, B):
            idx = perm[s:s + B]
            if len(idx) < 2:
                continue
            zs, z, pred = model([x[idx] for x in xs], lengths[idx], [w[idx] for w in weights])
            loss = F.l1_loss(pred, labels[idx])
            if reg is not None:
                loss = loss + beta * reg(zs, z)
            opt.zero_grad(set_to_none=True)
            if creg_opt is not None:
                creg_opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_value_(model.parameters(), 5)
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
    print(json.dumps({
        "impl": "torch", "model": a.model, "preset": a.preset, "reg": a.reg, "threads": a.threads,
        "scale": a.scale, "batch": B, "torch": torch.__version__, "epochs": epochs,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
