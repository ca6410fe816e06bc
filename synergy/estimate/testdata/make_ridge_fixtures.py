#!/usr/bin/python3
"""Reference values of estimate.HeldOutRidgeR2, computed with scikit-learn.

Run from this folder with Debian's python3-numpy and python3-sklearn:

    /usr/bin/python3 make_ridge_fixtures.py

It writes ridge_fixtures.json: inputs x, y (lists of rows), the number of
folds, the per-sample penalties lambda, and the expected held-out R^2 and the
penalty chosen in each fold. Per fold (contiguous blocks of rows) x is
standardized with sklearn's StandardScaler fitted on the other folds, y is
centered on their mean, RidgeCV (alphas = n_fit * lambdas, leave-one-out
choice, fit_intercept) is fitted on them and predicts the held-out block, whose
standardized inputs are first clipped to the range of the fit rows.
No code is shared with the Go implementation.
"""
import json

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20261206)
LAMBDAS = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4]


def mat(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]


def held_out_r2(x, y, folds, lambdas):
    n = len(x)
    sse = sst = 0.0
    chosen = []
    for k in range(folds):
        lo, hi = k * n // folds, (k + 1) * n // folds
        fit = np.r_[0:lo, hi:n]
        scaler = StandardScaler().fit(x[fit])
        ymean = y[fit].mean(axis=0)
        model = RidgeCV(alphas=[len(fit) * l for l in lambdas], fit_intercept=True)
        model.fit(scaler.transform(x[fit]), y[fit] - ymean)
        xs = scaler.transform(x[fit])
        held = np.clip(scaler.transform(x[lo:hi]), xs.min(axis=0), xs.max(axis=0))
        pred = model.predict(held) + ymean
        sse += float(((y[lo:hi] - pred) ** 2).sum())
        sst += float(((y[lo:hi] - ymean) ** 2).sum())
        chosen.append(float(model.alpha_ / len(fit)))
    return 1.0 - sse / sst, chosen


cases = []
for name, n, p, q, folds, kind in [
    ("linear plus noise", 60, 5, 3, 5, "linear"),
    ("more columns than fit rows", 40, 50, 4, 5, "linear"),
    ("independent", 50, 6, 2, 5, "independent"),
    ("constant x column", 45, 4, 2, 3, "constant"),
    ("uneven folds", 37, 3, 1, 4, "linear"),
    ("scaled columns", 80, 8, 5, 5, "scaled"),
    ("held-out outlier", 50, 4, 2, 5, "outlier"),
]:
    x = rng.normal(size=(n, p))
    if kind == "independent":
        y = rng.normal(size=(n, q))
    else:
        w = rng.normal(size=(p, q))
        y = x @ w + 0.5 * rng.normal(size=(n, q)) + 2.0
    if kind == "constant":
        x[:, 1] = 3.0
    if kind == "outlier":
        x[-3, 0] = 40.0  # in the last fold: clipped to the fit range there
    if kind == "scaled":
        x = x * rng.uniform(0.01, 100.0, size=p) + rng.normal(size=p)
    r2, chosen = held_out_r2(x, y, folds, LAMBDAS)
    cases.append({"name": name, "x": mat(x), "y": mat(y), "folds": folds, "lambdas": LAMBDAS,
                  "r2": r2, "chosen": chosen})

with open("ridge_fixtures.json", "w") as f:
    json.dump({"ridge": cases}, f, indent=1)
    f.write("\n")
