#!/usr/bin/env python3
"""Recompute the synergy regularizer's terms from a `synergo reg dump` file.

usage: recompute_regularizer.py DUMP.npz [DUMP.npz ...]

For each file, prints one JSON object per line with the terms recomputed here
with NumPy from the dumped arrays and the formulas the file's config selects —
l2, d, kappa, total — the graph's values of the same terms (graph_l2, ...), the
largest relative difference between the dumped per-modality and per-target
parts (l2_parts, d_parts, kappa_parts) and those recomputed here
(parts_rel_err), the largest relative difference between the dumped moving
covariance s_new_* and the recursion recomputed here (s_new_rel_err), and,
when the representations were standardized, the largest absolute difference
between the dumped standardized arrays zs_* and the standardization recomputed
here (zs_abs_err).

The formulas follow the paper (Shankar, "Multimodal fusion via cortical network
inspired losses": §2.2, §4.1, appendix D) and synergo's stable variant; they are
written here from those texts, independently of the Go code:

  L_L2  = sum_i sum_j |q_i^j - t_i^j|^2          (reduction "sum", appendix D)
        = sum_i mean_j |q_i^j - t_i^j|^2         (reduction "mean")
        = mean_i mean_j mean_k (q_i^jk - t_i^jk)^2   (reduction "unit")
  L_d   = sum_i MMD^2(gu_i, gf_i), k(a,b) = sum_s exp(-|a-b|^2 / (2 s^2)):
          sum_pp' k + sum_qq' k - 2 sum_pq k     (reduction "sum", §2.2)
          or the same with means                 (reduction "mean");
          unbiased: the diagonals of Kpp and Kqq dropped
        = sum_i E_P[T] - E_Q[exp T]              (kl_bound "paper", §2.2)
        = sum_i E_P[T] - log E_Q[exp T]          (kl_bound "dv", MINE)
          (reduction "unit": the mean over i instead of the sum, and the
          MMD^2 with means of the mean kernel (1/S) sum_s exp(...))
  L_k   = sum_targets (1/B) sum_j ((y_j - ybar)^T (S_t + c I)^-1 (y_j - ybar))^2
          [/ p(p+2) when normalize_kurtosis]
          (reduction "unit": the mean over the targets), with
          d_j = y_j - ybar, dc_j = d_j min(1, tau/|d_j|),
          tau = clip_norm, or clip_factor sqrt(mean_j |d_j|^2),
          Shat = (1/B) sum_j dc_j dc_j^T,
          S_t = w S_prev + b Shat, w = alpha (times tr Shat / tr S_prev when
          scale_matched_ema), b = 1 (ema_form "sum", appendix D) or 1 - alpha,
          c = diag_load_absolute, or diag_load tr(S_t)/p + 1e-8
  total = gamma_l2 L_L2 + gamma_d L_d + gamma_kappa L_k   (terms that are on)

t_i and y are the representations z_* or, with standardize, their batch
standardizations (z - mean) / sqrt(var + 1e-5).

`make fixtures` runs every testdata script without arguments; this one then has
nothing to do and exits 0. The Go test synergy/dump_numpy_test.go runs it on
dumps it writes.
"""
import json
import sys

import numpy as np


def standardize(z):
    c = z - z.mean(axis=0)
    return c / np.sqrt((c * c).mean(axis=0) + 1e-5)


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def gaussian_kernel(a, b, widths):
    sq = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return sum(np.exp(-sq / (2.0 * s * s)) for s in widths)


def mmd2(p, q, widths, reduction, unbiased):
    kpp = gaussian_kernel(p, p, widths)
    kqq = gaussian_kernel(q, q, widths)
    kpq = gaussian_kernel(p, q, widths)
    n = p.shape[0]
    if unbiased:
        spp, sqq = kpp.sum() - np.trace(kpp), kqq.sum() - np.trace(kqq)
        within = n * (n - 1)
    else:
        spp, sqq = kpp.sum(), kqq.sum()
        within = n * n
    if reduction == "sum":
        return spp + sqq - 2.0 * kpq.sum()
    return spp / within + sqq / within - 2.0 * kpq.sum() / (n * n)


def kl_bound(tp, tq, bound):
    if bound == "paper":
        return tp.mean() - np.exp(tq).mean()
    m = tq.max()
    return tp.mean() - (m + np.log(np.exp(tq - m).mean()))


def kurtosis(y, prev, alpha, cfg):
    n, p = y.shape
    d = y - y.mean(axis=0)
    norms = np.sqrt((d * d).sum(axis=1))
    tau = 0.0
    if cfg["clip_norm"] > 0:
        tau = cfg["clip_norm"]
    elif cfg["clip_factor"] > 0:
        tau = cfg["clip_factor"] * np.sqrt((norms ** 2).mean())
    dc = d
    if tau > 0:
        dc = d * np.minimum(1.0, tau / np.maximum(norms, 1e-300))[:, None]
    shat = dc.T @ dc / n
    w = alpha
    if cfg["scale_matched_ema"] and alpha > 0:
        w = alpha * np.trace(shat) / np.trace(prev)
    b = 1.0 if cfg["ema_form"] == "sum" else 1.0 - alpha
    s_t = w * prev + b * shat
    if cfg["diag_load_absolute"] > 0:
        c = cfg["diag_load_absolute"]
    else:
        c = cfg["diag_load"] * np.trace(s_t) / p + 1e-8
    k = dc if cfg["clip_in_kurtosis"] else d
    m = (k * np.linalg.solve(s_t + c * np.eye(p), k.T).T).sum(axis=1)
    kappa = (m * m).mean()
    if cfg["normalize_kurtosis"]:
        kappa /= p * (p + 2)
    return kappa, s_t


def combine(parts, reduction):
    """A term from its parts: their mean with reduction "unit", else their sum."""
    return float(np.mean(parts)) if reduction == "unit" else float(np.sum(parts))


def recompute(path):
    f = np.load(path)
    cfg = json.loads(str(f["config"]))
    n_mod = len([k for k in f.files if k.startswith("z_") and k != "z_fused"])
    z = {i: f["z_%d" % i] for i in range(n_mod)}
    z["fused"] = f["z_fused"]
    seen = dict(z)
    out = {"file": path}
    if cfg["standardize"]:
        seen = {k: standardize(v) for k, v in z.items()}
        out["zs_abs_err"] = max(
            float(np.abs(seen[k] - f["zs_%s" % k]).max()) for k in seen)
    use_d = cfg["use_d"] and cfg["divergence"] != "none"
    targets = []
    if cfg["use_kappa"]:
        if cfg["kurtosis_fused"]:
            targets.append("fused")
        if cfg["kurtosis_unimodal"]:
            targets.extend(range(n_mod))
    red = cfg["reduction"]
    total = 0.0
    l2 = d = kappa = float("nan")
    parts_err = 0.0

    def check_parts(name, parts):
        nonlocal parts_err
        dumped = f[name]
        if len(dumped) != len(parts):
            parts_err = 1e300  # JSON has no infinity
            return
        parts_err = max(parts_err, max(float(rel(a, b)) for a, b in zip(parts, dumped)))

    if cfg["use_l2"]:
        parts = []
        for i in range(n_mod):
            sq = (f["q_%d" % i] - seen[i]) ** 2
            parts.append({"sum": sq.sum(), "mean": sq.sum(axis=1).mean(), "unit": sq.mean()}[red])
        check_parts("l2_parts", parts)
        l2 = combine(parts, red)
        total += cfg["gamma_l2"] * l2
    if use_d:
        parts = []
        for i in range(n_mod):
            if cfg["divergence"] == "mmd":
                widths = f["bandwidths_%d" % i]
                m = mmd2(f["gu_%d" % i], f["gf_%d" % i], widths, red, cfg["unbiased_mmd"])
                parts.append(m / len(widths) if red == "unit" else m)
            else:
                parts.append(kl_bound(f["tp_%d" % i], f["tq_%d" % i], cfg["kl_bound"]))
        check_parts("d_parts", parts)
        d = combine(parts, red)
        total += cfg["gamma_d"] * d
    if targets:
        parts = []
        err = 0.0
        for t in targets:
            k, s_t = kurtosis(seen[t], f["s_prev_%s" % t], float(f["alpha"]), cfg)
            parts.append(k)
            s_new = f["s_new_%s" % t]
            err = max(err, float(np.abs(s_t - s_new).max() / np.abs(s_t).max()))
        check_parts("kappa_parts", parts)
        kappa = combine(parts, red)
        out["s_new_rel_err"] = err
        total += cfg["gamma_kappa"] * kappa
    out["parts_rel_err"] = parts_err
    out.update({"l2": l2, "d": d, "kappa": kappa, "total": total})
    for name in ("l2", "d", "kappa", "total"):
        out["graph_" + name] = float(f[name])
    out["keys"] = sorted(f.files)
    # JSON has no NaN: an unused term is null.
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}


def main(args):
    if not args:
        print(__doc__.splitlines()[2], file=sys.stderr)
        print("no dump given: nothing to recompute", file=sys.stderr)
        return 0
    for path in args:
        print(json.dumps(recompute(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
