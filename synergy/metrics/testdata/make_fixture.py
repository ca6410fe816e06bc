#!/usr/bin/python3
"""Reference values for synergy/metrics, computed with numpy and scikit-learn.

Run from this folder with Debian's python3-numpy and python3-sklearn:

    /usr/bin/python3 make_fixture.py

It writes fixture.json. mmsa_regression below re-implements
MMSA's MetricsTop.__eval_mosei_regression (thuiar/MMSA
src/MMSA/utils/metricsTop.py, commit a94e65d) line by line, without the final
round(x, 4): clip to [-3, 3] / [-2, 2] then np.round (half to even) for
Acc7/Acc5, MAE and np.corrcoef on unclipped values, Has0 = (>= 0) on all
samples, Non0 = (> 0) on samples whose truth != 0, sklearn accuracy_score and
f1_score(average='weighted'). A NaN (np.corrcoef of a constant vector) is
written as null.

The confidence-interval references use only numpy and closed forms of the
Student t quantile: df 1 (Cauchy) t_p = tan(pi (p - 1/2)); df 2
t_p = (2p - 1) / sqrt(2 p (1 - p)); and the tabulated fact
t_{0.975,4} = 2.7764451051977987.
"""
import json
import math
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

warnings.simplefilter("ignore")  # numpy warns on corrcoef of a constant vector
rng = np.random.default_rng(1111)


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def multiclass_acc(y_pred, y_true):
    return np.sum(np.round(y_pred) == np.round(y_true)) / float(len(y_true))


def mmsa_regression(test_preds, test_truth):
    test_preds = np.asarray(test_preds, dtype=np.float64)
    test_truth = np.asarray(test_truth, dtype=np.float64)
    test_preds_a7 = np.clip(test_preds, a_min=-3., a_max=3.)
    test_truth_a7 = np.clip(test_truth, a_min=-3., a_max=3.)
    test_preds_a5 = np.clip(test_preds, a_min=-2., a_max=2.)
    test_truth_a5 = np.clip(test_truth, a_min=-2., a_max=2.)
    mae = np.mean(np.absolute(test_preds - test_truth)).astype(np.float64)
    corr = np.corrcoef(test_preds, test_truth)[0][1]
    mult_a7 = multiclass_acc(test_preds_a7, test_truth_a7)
    mult_a5 = multiclass_acc(test_preds_a5, test_truth_a5)
    non_zeros = np.array([i for i, e in enumerate(test_truth) if e != 0])
    non_zeros_binary_truth = (test_truth[non_zeros] > 0)
    non_zeros_binary_preds = (test_preds[non_zeros] > 0)
    non_zeros_acc2 = accuracy_score(non_zeros_binary_preds, non_zeros_binary_truth)
    non_zeros_f1_score = f1_score(non_zeros_binary_truth, non_zeros_binary_preds, average='weighted')
    binary_truth = (test_truth >= 0)
    binary_preds = (test_preds >= 0)
    acc2 = accuracy_score(binary_preds, binary_truth)
    f_score = f1_score(binary_truth, binary_preds, average='weighted')
    return {
        "MAE": num(mae), "Corr": num(corr), "Acc7": num(mult_a7), "Acc5": num(mult_a5),
        "Acc2Has0": num(acc2), "F1Has0": num(f_score),
        "Acc2Non0": num(non_zeros_acc2), "F1Non0": num(non_zeros_f1_score),
        "N": len(test_truth), "NNonZero": int(len(non_zeros)),
    }


def binary(pred, truth):
    return {"Acc": float(accuracy_score(truth, pred)),
            "F1": float(f1_score(truth, pred, average='weighted')), "N": len(truth)}


regression = []

# Hand-made: exact halves on both sides, zero labels, predictions beyond +-3,
# a -0.0 prediction (>= 0 and not > 0), classes that meet on a rounding tie.
halves_pred = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.7, -4.2, 0.0, -0.0, 0.49, 2.4999, 0.3, -0.2, 1.0, 2.0]
halves_true = [0.0, -0.4, 2.0, -2.0, 2.5, -3.0, 3.0, -2.6, 0.0, 0.6, 0.5, 1.5, 0.0, 0.0, -1.0, 3.0]
regression.append({"name": "halves, zeros, out of range", "pred": halves_pred, "truth": halves_true})

# MOSI-like: labels are means of annotator integer scores (multiples of 1/3
# and 1/5, many exact zeros), noisy predictions, some outside [-3, 3].
n = 120
truth = np.round(rng.integers(-9, 10, size=n) / 3.0, 12)
truth[rng.random(n) < 0.1] = 0.0
truth[:10] = rng.integers(-15, 16, size=10) / 5.0
pred = truth * 0.7 + rng.normal(scale=0.9, size=n)
pred[:6] = [3.4, -3.9, 0.5, -0.5, 1.5, -2.5]
regression.append({"name": "MOSI-like n=120", "pred": pred.tolist(), "truth": truth.tolist()})

# All predictions positive: one Has0 class is never predicted (F1 of that
# class is 0 and it keeps its weight).
regression.append({"name": "one predicted class", "pred": [0.2, 1.1, 2.9, 0.7, 0.1, 1.9],
                   "truth": [-1.0, 1.0, 2.0, -0.4, 0.0, 3.0]})

# Constant predictions: np.corrcoef gives NaN.
regression.append({"name": "constant predictions", "pred": [0.5] * 5, "truth": [-1.0, 0.0, 1.0, 2.0, -2.0]})

for c in regression:
    c["want"] = mmsa_regression(c["pred"], c["truth"])

binary_cases = []
for name, pred, truth in [
    ("balanced", [1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 0, 1, 1, 1]),
    ("all predicted 1", [1, 1, 1, 1, 1], [1, 0, 1, 0, 0]),
    ("random n=50", rng.integers(0, 2, size=50).tolist(), rng.integers(0, 2, size=50).tolist()),
]:
    binary_cases.append({"name": name, "pred": [float(v) for v in pred], "truth": [float(v) for v in truth],
                         "want": binary(pred, truth)})

# Mean +- std (ddof = 1) and paired-difference t intervals.
summary = []
t_quantile = {
    (1, 0.95): math.tan(math.pi * (0.975 - 0.5)),
    (1, 0.80): math.tan(math.pi * (0.90 - 0.5)),
    (2, 0.95): (2 * 0.975 - 1) / math.sqrt(2 * 0.975 * 0.025),
    (2, 0.90): (2 * 0.95 - 1) / math.sqrt(2 * 0.95 * 0.05),
    (4, 0.95): 2.7764451051977987,
}
for (df, level), t in t_quantile.items():
    a = rng.normal(loc=0.8, scale=0.05, size=df + 1)
    b = a - rng.normal(loc=0.01, scale=0.02, size=df + 1)
    d = a - b
    mean = float(np.mean(d))
    half = t * float(np.std(d, ddof=1)) / math.sqrt(len(d))
    summary.append({"name": f"df={df} level={level}", "a": a.tolist(), "b": b.tolist(), "level": level,
                    "mean_a": float(np.mean(a)), "std_a": float(np.std(a, ddof=1)),
                    "mean_diff": mean, "lo": mean - half, "hi": mean + half})

with open("fixture.json", "w") as f:
    json.dump({"regression": regression, "binary": binary_cases, "summary": summary}, f, indent=1)
    f.write("\n")
