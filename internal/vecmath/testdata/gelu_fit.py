#!/usr/bin/python3
"""Fits the polynomial Q of vecmath's GELU kernels (vecmath_amd64.s, PHI8):

    Q(t) ≈ ½·e^{x²/2}·erfc(x/√2) = e^{x²/2}·Φ(−x),  t = 1/(1 + p·x),  x ∈ [0, 19],

degree 10, p = 0.28 (as a float32), by iteratively reweighted least squares
toward the smallest maximum relative error (references from mpmath at 40
digits), then rounds the coefficients to float32 and prints them as the
kernel's VEC8 lines with the maximum relative error before and after the
rounding (6.2e-9 and 2.0e-8).

    /usr/bin/python3 internal/vecmath/testdata/gelu_fit.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
P = float(np.float32(0.28))
DEGREE, XMAX = 10, 19.0


def target(x):
    x = mp.mpf(x)
    return float(0.5 * mp.exp(x * x / 2) * mp.erfc(x / mp.sqrt(2)))


def main():
    t0 = 1 / (1 + P * XMAX)
    ts = np.unique(np.concatenate([np.linspace(t0, 1, 5000), 1 - np.geomspace(1e-9, 1 - t0, 5000)]))
    ys = np.array([target(x) for x in (1 / ts - 1) / P])
    V = np.vander(ts, DEGREE + 1, increasing=True)
    w, weights = 1 / ys, np.ones_like(ts)
    for _ in range(40):
        c, *_ = np.linalg.lstsq(V * (w * weights)[:, None], ys * w * weights, rcond=None)
        err = (V @ c - ys) / ys
        weights *= (np.abs(err) / np.abs(err).max()) ** 0.3 + 1e-3
        weights /= weights.max()
    c32 = c.astype(np.float32)
    err32 = np.abs((V @ c32.astype(np.float64) - ys) / ys).max()
    print(f"// max relative error {np.abs(err).max():.2g} (float64 coefficients), {err32:.2g} (float32)")
    for k, v in enumerate(c32):
        bits = np.frombuffer(v.tobytes(), np.uint32)[0]
        print(f"VEC8(geluQ{k}, 0x{bits:08X}) // {float(v)!r}")


if __name__ == "__main__":
    main()
