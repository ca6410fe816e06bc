#!/usr/bin/python3
"""Reference trajectories of torch.optim.AdamW for synergy/nn's AdamW tests.

Run with Debian's python3-torch:  /usr/bin/python3 adamw_fixture.py
Writes adamw_fixture.json next to this script (float64 throughout).

Toy problem: a 2-layer net f(X) = tanh(X·W1 + b1)·W2 + b2 with a fixed data
matrix X (8×3) and targets Y (8×2), loss = mean((f(X) − Y)²) over all
entries. Weights are stored as (in, out) matrices, row-major. Three
variants, each run for STEPS steps from the same initial parameters:
  plain       AdamW, weight decay 0.05
  clip_norm   clip_grad_norm_(max_norm=0.3) before each step (the returned
              total norm is stored), weight decay 0.1, betas (0.8, 0.99)
  clip_value  clip_grad_value_(clip_value=0.05) before each step, default
              weight decay 0.01
"params" holds the parameters after every step.
"""
import json
import os

import torch

torch.manual_seed(7)
STEPS = 25
X = torch.randn(8, 3, dtype=torch.float64)
Y = torch.randn(8, 2, dtype=torch.float64)
init = {
    "w1": torch.randn(3, 4, dtype=torch.float64) * 0.8,
    "b1": torch.randn(4, dtype=torch.float64) * 0.1,
    "w2": torch.randn(4, 2, dtype=torch.float64) * 0.8,
    "b2": torch.randn(2, dtype=torch.float64) * 0.1,
}
NAMES = ["w1", "b1", "w2", "b2"]

VARIANTS = {
    "plain": dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05, clip=None),
    "clip_norm": dict(lr=0.02, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1, clip=("norm", 0.3)),
    "clip_value": dict(lr=0.03, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01, clip=("value", 0.05)),
}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run(cfg):
    params = {n: init[n].clone().requires_grad_(True) for n in NAMES}
    plist = [params[n] for n in NAMES]
    opt = torch.optim.AdamW(plist, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"],
                            weight_decay=cfg["weight_decay"])
    traj, losses, norms = [], [], []
    for _ in range(STEPS):
        opt.zero_grad()
        f = torch.tanh(X @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]
        loss = ((f - Y) ** 2).mean()
        loss.backward()
        losses.append(float(loss))
        if cfg["clip"] is not None:
            kind, v = cfg["clip"]
            if kind == "norm":
                norms.append(float(torch.nn.utils.clip_grad_norm_(plist, v)))
            else:
                torch.nn.utils.clip_grad_value_(plist, v)
        opt.step()
        traj.append({n: flat(params[n]) for n in NAMES})
    out = {k: v for k, v in cfg.items() if k != "clip"}
    out["betas"] = list(cfg["betas"])
    out["clip"] = None if cfg["clip"] is None else {"kind": cfg["clip"][0], "value": cfg["clip"][1]}
    out.update(params=traj, losses=losses, total_norms=norms)
    return out


fixture = {
    "torch_version": torch.__version__,
    "steps": STEPS,
    "x": flat(X), "y": flat(Y),
    "init": {n: flat(init[n]) for n in NAMES},
    "variants": {name: run(cfg) for name, cfg in VARIANTS.items()},
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adamw_fixture.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print("wrote", path)
