#!/usr/bin/python3
"""Reference values for synergy/estimate, computed independently with numpy.

Run from this folder with Debian's python3-numpy:

    /usr/bin/python3 make_fixtures.py

It writes fixtures.json: inputs (matrices as lists of rows) and the expected
outputs of MardiaKurtosis, MMD2, DonskerVaradhan, EMACovariance (covariance
after every update, precision), RobustKurtosis and MedianHeuristic. Every
formula below is written from its definition, in vectorized numpy, with no
code shared with the Go implementation.
"""
import json

import numpy as np

rng = np.random.default_rng(20240611)


def mat(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]


def mardia(x):
    # kappa = (1/n) sum_i ((x_i - xbar)^T S^-1 (x_i - xbar))^2, S with divisor n.
    n = x.shape[0]
    d = x - x.mean(axis=0)
    s = d.T @ d / n
    m = np.einsum("ij,ij->i", d, np.linalg.solve(s, d.T).T)
    return float(np.mean(m**2))


def kernel(a, b, bandwidths):
    sq = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1)
    return sum(np.exp(-sq / (2.0 * s * s)) for s in bandwidths)


def mmd2(x, y, bandwidths, unbiased):
    n, m = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x, bandwidths), kernel(y, y, bandwidths), kernel(x, y, bandwidths)
    if unbiased:
        return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
                     + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                     - 2.0 * kxy.mean())
    return float(kxx.mean() + kyy.mean() - 2.0 * kxy.mean())


def dv(joint, marginal):
    # mean(T(p)) - log mean exp(T(q)); np.logaddexp.reduce is a pairwise
    # log-sum-exp, a different evaluation order from the Go max-shift form.
    marginal = np.asarray(marginal, dtype=np.float64)
    return float(np.mean(joint) - (np.logaddexp.reduce(marginal) - np.log(len(marginal))))


def clip_rows(d, clip_norm):
    if clip_norm <= 0:
        return d
    norms = np.linalg.norm(d, axis=1, keepdims=True)
    scale = np.minimum(1.0, clip_norm / np.maximum(norms, 1e-300))
    return d * scale


def median_heuristic(x, y):
    z = np.vstack([x, y]) if y is not None else x
    i, j = np.triu_indices(len(z), k=1)
    return float(np.median(np.linalg.norm(z[i] - z[j], axis=1)))


fix = {"mardia": [], "mmd2": [], "dv": [], "ema": [], "median": []}

# Mardia kurtosis: p = 1..5, Gaussian, correlated and heavy-tailed samples.
for p, n, kind in [(1, 7, "gauss"), (1, 25, "t5"), (2, 12, "gauss"), (2, 30, "corr"),
                   (3, 20, "t5"), (3, 9, "gauss"), (4, 40, "corr"), (5, 30, "gauss"), (5, 16, "t5")]:
    if kind == "gauss":
        x = rng.normal(size=(n, p))
    elif kind == "t5":
        x = rng.standard_t(5, size=(n, p))
    else:
        a = rng.normal(size=(p, p))
        x = rng.normal(size=(n, p)) @ a + 3.0
    fix["mardia"].append({"name": f"{kind} n={n} p={p}", "x": mat(x), "want": mardia(x)})

# MMD^2: several sample pairs and bandwidth sets, biased and unbiased.
for name, n, m, d, shift, bws in [
    ("same law", 10, 12, 3, 0.0, [1.0]),
    ("shifted", 8, 8, 2, 1.5, [0.5, 1.0, 2.0]),
    ("small bandwidth", 6, 9, 4, 0.3, [0.1, 0.3]),
    ("wide", 15, 5, 5, -0.7, [2.0, 4.0, 8.0, 16.0]),
    ("one dim", 4, 3, 1, 2.0, [0.7]),
]:
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) * 1.3 + shift
    for unbiased in (False, True):
        fix["mmd2"].append({"name": f"{name} unbiased={unbiased}", "x": mat(x), "y": mat(y),
                            "bandwidths": bws, "unbiased": unbiased, "want": mmd2(x, y, bws, unbiased)})

# Donsker-Varadhan: ordinary and large critic values (exp would overflow).
for name, joint, marginal in [
    ("small", rng.normal(size=7), rng.normal(size=9)),
    ("large", 800.0 + rng.normal(size=5), 750.0 + 5 * rng.normal(size=6)),
    ("very negative", -900.0 + rng.normal(size=4), -1000.0 + rng.normal(size=8)),
    ("single", np.array([0.25]), np.array([-1.5])),
]:
    fix["dv"].append({"name": name, "joint": [float(v) for v in joint],
                      "marginal": [float(v) for v in marginal], "want": dv(joint, marginal)})

# EMA covariance: sequences of batches, S <- a S + (1 - a) S_batch (first: S = S_batch).
for name, dim, decay, clip_norm, diag_load, batch_sizes in [
    ("clipped", 4, 0.9, 2.5, 0.1, [8, 8, 6, 10, 8]),
    ("no clip", 3, 0.5, 0.0, 0.01, [5, 7, 5]),
    ("decay 0", 2, 0.0, 1.0, 0.5, [4, 6]),
]:
    s = None
    batches, covs = [], []
    for k, b in enumerate(batch_sizes):
        x = rng.standard_t(4, size=(b, dim)) * (1.0 + 0.5 * k) + rng.normal(size=dim)
        d = clip_rows(x - x.mean(axis=0), clip_norm)
        sb = d.T @ d / b
        s = sb if s is None else decay * s + (1.0 - decay) * sb
        batches.append(mat(x))
        covs.append(mat(s))
    prec = np.linalg.inv(s + diag_load * np.eye(dim))
    xk = rng.standard_t(4, size=(12, dim)) * 2.0
    dk = clip_rows(xk - xk.mean(axis=0), clip_norm)
    q = np.einsum("ij,jk,ik->i", dk, prec, dk)
    fix["ema"].append({"name": name, "dim": dim, "decay": decay, "clip_norm": clip_norm,
                       "diag_load": diag_load, "batches": batches, "covariances": covs,
                       "precision": mat(prec), "kurtosis_x": mat(xk),
                       "robust_kurtosis": float(np.mean(q**2))})

# Median heuristic over the pooled sample (odd and even pair counts, y absent).
for name, n, m, d in [("odd pairs", 4, 3, 2), ("even pairs", 5, 3, 3), ("x only", 6, 0, 4)]:
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) + 1.0 if m > 0 else None
    fix["median"].append({"name": name, "x": mat(x), "y": mat(y) if y is not None else None,
                          "want": median_heuristic(x, y)})

with open("fixtures.json", "w") as f:
    json.dump(fix, f, indent=1)
    f.write("\n")
