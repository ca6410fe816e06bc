#!/usr/bin/python3
"""Reference values for synergy/nn layers, computed with PyTorch (float64).

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 layers_fixture.py > layers_fixture.json
Weights follow synergo's layout: a Linear weight is stored (in, out), i.e. the
transpose of torch.nn.Linear.weight. Gradients are those of sum(C * output)
for the stored C.
"""
import json

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rs = np.random.RandomState(20261127)


def arr(*shape):
    return rs.standard_normal(shape)


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def flat(x):
    return [float(v) for v in np.asarray(x.detach() if torch.is_tensor(x) else x).ravel()]


out = {"torch_version": torch.__version__}

# Linear: y = x W + b with W (in, out).
x, w, b = arr(4, 3), arr(3, 2), arr(2)
lin = torch.nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(t(w.T))
    lin.bias.copy_(t(b))
out["linear"] = {"x": flat(x), "w": flat(w), "b": flat(b), "y": flat(lin(t(x)))}

# MLP [3, 5, 5, 5, 2] with LeakyReLU(0.01) between layers, linear output.
sizes = [3, 5, 5, 5, 2]
ws = [arr(sizes[i], sizes[i + 1]) * 0.7 for i in range(4)]
bs = [arr(sizes[i + 1]) * 0.3 for i in range(4)]
layers = []
for i in range(4):
    l = torch.nn.Linear(sizes[i], sizes[i + 1])
    with torch.no_grad():
        l.weight.copy_(t(ws[i].T))
        l.bias.copy_(t(bs[i]))
    layers.append(l)
    if i < 3:
        layers.append(torch.nn.LeakyReLU())
mlp = torch.nn.Sequential(*layers)
x = arr(6, 3)
out["mlp"] = {"sizes": sizes, "w": [flat(a) for a in ws], "b": [flat(a) for a in bs],
              "x": flat(x), "y": flat(mlp(t(x)))}

# GELU (exact, erf) and its derivative.
x = np.array([-3.0, -1.5, -0.3, 0.0, 0.2, 1.0, 2.7])
xt = t(x, True)
y = torch.nn.functional.gelu(xt)
y.sum().backward()
out["gelu"] = {"x": flat(x), "y": flat(y), "dx": flat(xt.grad)}

# LayerNorm over the last axis, eps 1e-12 (BERT), non-trivial gamma/beta.
x, gamma, beta, c = arr(2, 3, 5), arr(5), arr(5), arr(2, 3, 5)
xt, gt, bt = t(x, True), t(gamma, True), t(beta, True)
y = torch.nn.functional.layer_norm(xt, (5,), gt, bt, eps=1e-12)
(y * t(c)).sum().backward()
out["layernorm"] = {"x": flat(x), "gamma": flat(gamma), "beta": flat(beta), "eps": 1e-12,
                    "c": flat(c), "y": flat(y), "dx": flat(xt.grad), "dgamma": flat(gt.grad),
                    "dbeta": flat(bt.grad)}

# Scaled dot-product attention softmax(s q k^T) v over the key axis.
q, k, v, c = arr(2, 3, 4), arr(2, 5, 4), arr(2, 5, 3), arr(2, 3, 3)
scale = 0.5
qt, kt, vt = t(q, True), t(k, True), t(v, True)
o = torch.softmax(scale * qt @ kt.transpose(1, 2), dim=2) @ vt
(o * t(c)).sum().backward()
out["attention"] = {"q": flat(q), "k": flat(k), "v": flat(v), "scale": scale, "c": flat(c),
                    "out": flat(o), "dq": flat(qt.grad), "dk": flat(kt.grad), "dv": flat(vt.grad)}

# logsumexp along axis 1, including values where exp overflows.
x = np.array([[1.0, 2.0, 3.0, 4.0], [1000.0, 1001.0, 999.0, -5.0], [-1000.0, -1001.0, 0.5, 0.25]])
out["logsumexp"] = {"x": flat(x), "shape": list(x.shape), "axis1": flat(torch.logsumexp(t(x), dim=1))}

# clip_grad_norm_: max_norm 2.5 (clips) and 100 (does not).
g1, g2 = arr(3, 2), arr(4)
clip = {"g1": flat(g1), "g2": flat(g2), "cases": []}
for max_norm in (2.5, 100.0):
    p1, p2 = torch.nn.Parameter(t(np.zeros_like(g1))), torch.nn.Parameter(t(np.zeros_like(g2)))
    p1.grad, p2.grad = t(g1.copy()), t(g2.copy())
    total = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm)
    clip["cases"].append({"max_norm": max_norm, "total": float(total),
                          "g1": flat(p1.grad), "g2": flat(p2.grad)})
out["clip_grad_norm"] = clip

print(json.dumps(out, indent=1))
