#!/usr/bin/python3
"""Reference values of the trainer's per-epoch diagnostics (diagnostics.go),
computed with numpy and scikit-learn.

Run from this folder with Debian's python3-numpy and python3-sklearn:

    /usr/bin/python3 make_diagnostics.py

It writes diagnostics.json: representations (a fused Z and three Z_i, as
lists of rows), the fixed projections the trainer would draw (here: drawn
by numpy), the MMD row cap, and the expected diagnostics. Every formula is
written from its definition; no code is shared with the Go implementation.
"""
import json

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20261207)
LAMBDAS = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4]
FOLDS = 5


def mat(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]


def standardize(z):
    # Columns centered and divided by their sd (ddof 0); constant columns -> 0.
    c = z - z.mean(axis=0)
    sd = np.sqrt((c**2).mean(axis=0))
    return c / np.where(sd > 0, sd, 1.0)


def mardia(y):
    n = len(y)
    d = y - y.mean(axis=0)
    s = d.T @ d / n
    m = np.einsum("ij,ij->i", d, np.linalg.solve(s, d.T).T)
    return float(np.mean(m**2))


def kurtosis(z, proj):
    # The first p = min(k, n // 10) columns of the projection: n >= 10 p always.
    n, p = len(z), min(proj.shape[1], len(z) // 10)
    if p < 1:
        return {"b2": None, "ratio": None, "n": n, "p": p, "refused": True}
    b2 = mardia(standardize(z) @ proj[:, :p])
    return {"b2": b2, "ratio": b2 / (p * (p + 2) * (n - 1) / (n + 1)), "n": n, "p": p, "refused": False}


def mmd2_unbiased(z, fused, proj, proj_f, rows):
    rows = min(rows, len(z))
    a = standardize(z[:rows]) @ proj
    b = standardize(fused[:rows]) @ proj_f
    pooled = np.vstack([a, b])
    i, j = np.triu_indices(len(pooled), k=1)
    med = float(np.median(np.linalg.norm(pooled[i] - pooled[j], axis=1)))
    bws = [0.5 * med, med, 2.0 * med]

    def k(u, v):
        sq = ((u[:, None, :] - v[None, :, :]) ** 2).sum(axis=-1)
        return sum(np.exp(-sq / (2.0 * s * s)) for s in bws)

    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    v = ((kaa.sum() - np.trace(kaa)) / (rows * (rows - 1))
         + (kbb.sum() - np.trace(kbb)) / (rows * (rows - 1)) - 2.0 * kab.mean())
    return {"mmd2": float(v), "n": rows, "p": proj.shape[1]}


def recon_r2(unimodal, i):
    x = np.hstack([z for j, z in enumerate(unimodal) if j != i])
    y = unimodal[i]
    n = len(x)
    if n < 2 * FOLDS:
        return {"refused": True, "n": n, "p_in": x.shape[1], "p_out": y.shape[1]}
    sse = sst = 0.0
    lambdas = []
    for f in range(FOLDS):
        lo, hi = f * n // FOLDS, (f + 1) * n // FOLDS
        fit = np.r_[0:lo, hi:n]
        sc = StandardScaler().fit(x[fit])
        ym = y[fit].mean(axis=0)
        m = RidgeCV(alphas=[len(fit) * l for l in LAMBDAS], fit_intercept=True).fit(sc.transform(x[fit]), y[fit] - ym)
        xs = sc.transform(x[fit])
        held = np.clip(sc.transform(x[lo:hi]), xs.min(axis=0), xs.max(axis=0))
        pred = m.predict(held) + ym
        sse += float(((y[lo:hi] - pred) ** 2).sum())
        sst += float(((y[lo:hi] - ym) ** 2).sum())
        lambdas.append(float(m.alpha_ / len(fit)))
    return {"r2": 1.0 - sse / sst, "n": n, "p_in": x.shape[1], "p_out": y.shape[1], "lambdas": lambdas}


def proj(d, k):
    # A random orthonormal frame, as the trainer draws (its own generator).
    q, _ = np.linalg.qr(rng.normal(size=(d, k)))
    return q


cases = []
for name, n, dims, fused_dim, mmd_dim, kurt_dim, rows in [
    # Z_i share a latent; Z mixes them with Student-t noise; audio is narrower than k.
    ("shared latent", 90, [12, 3, 6], 20, 8, 4, 60),
    # Validation split too small for a 4-d kurtosis (n < 40): 3 dimensions.
    ("small split", 30, [5, 4, 6], 10, 4, 4, 512),
    # Fewer than 10 samples: no kurtosis at all; R² refused too (2 rows per fold).
    ("tiny split", 9, [3, 2, 2], 4, 4, 4, 512),
]:
    latent = rng.normal(size=(n, 2))
    unimodal = []
    for d in dims:
        w = rng.normal(size=(2, d))
        unimodal.append(latent @ w + 0.7 * rng.normal(size=(n, d)) + rng.normal(size=d))
    unimodal[1][:, 0] *= 50.0  # one wide-scale column: standardization matters
    fused = np.hstack(unimodal) @ rng.normal(size=(sum(dims), fused_dim)) + rng.standard_t(4, size=(n, fused_dim))
    mmd_u, mmd_f = [], []
    for d in dims:
        k = min(mmd_dim, d, fused_dim)
        mmd_u.append(proj(d, k))
        mmd_f.append(proj(fused_dim, k))
    kurt_f = proj(fused_dim, min(kurt_dim, fused_dim))
    kurt_u = [proj(d, min(kurt_dim, d)) for d in dims]
    cases.append({
        "name": name, "rows": rows,
        "fused": mat(fused), "unimodal": [mat(z) for z in unimodal],
        "mmd_unimodal": [mat(p) for p in mmd_u], "mmd_fused": [mat(p) for p in mmd_f],
        "kurt_fused": mat(kurt_f), "kurt_unimodal": [mat(p) for p in kurt_u],
        "want": {
            "kurtosis_fused": kurtosis(fused, kurt_f),
            "kurtosis_unimodal": [kurtosis(z, p) for z, p in zip(unimodal, kurt_u)],
            "mmd2": [mmd2_unbiased(z, fused, pu, pf, rows) for z, pu, pf in zip(unimodal, mmd_u, mmd_f)],
            "recon": [recon_r2(unimodal, i) for i in range(len(dims))],
        },
    })

with open("diagnostics.json", "w") as f:
    json.dump({"cases": cases}, f, indent=1)
    f.write("\n")
