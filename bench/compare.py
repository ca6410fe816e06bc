#!/usr/bin/python3
"""Side-by-side epoch timing of synergo (Go) and the PyTorch ports in
torch_models.py: for each configuration, runs the Go epoch command and the
PyTorch script alternately (the order reversed every other round) (--pairs rounds; PyTorch with 2 threads and with 1
thread in every round), each process training --epochs epochs of which the
last is timed, and prints per-epoch medians (wall and CPU seconds), the
ratios Go/PyTorch and the peak RSS of each side as a Markdown table.

    /usr/bin/python3 bench/compare.py --goepoch /tmp/goepoch --pairs 5
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def detect_coretype():
    """The OpenBLAS kernel set for this CPU: SkylakeX with AVX-512, Haswell
    with AVX2, else None (let OpenBLAS choose). Debian's OpenBLAS 0.3.21 falls
    back to its SSE3 "Prescott" kernels on CPUs it does not know (the build
    machine's virtualized Xeon), several times slower, for Go and PyTorch
    alike; both sides get the same OPENBLAS_CORETYPE."""
    try:
        flags = set(next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return None
    if "avx512f" in flags:
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def run(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goepoch", required=True, help="the built bench/goepoch binary")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1, help="per process; the last is timed")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--preset", default="mosi")
    ap.add_argument("--configs", default="eflstm:mmd,tfn:mmd,eflstm:none,tfn:none",
                    help="comma-separated model:regularizer pairs")
    ap.add_argument("--json", help="also write every raw record to this JSON-lines file")
    ap.add_argument("--openblas-coretype", default="auto",
                    help="OPENBLAS_CORETYPE for both sides: auto (from /proc/cpuinfo unless already set), "
                         "none (OpenBLAS's own choice) or a kernel name such as SkylakeX")
    a = ap.parse_args()
    base = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    core = a.openblas_coretype
    if core == "auto":
        core = os.environ.get("OPENBLAS_CORETYPE") or detect_coretype()
    if core and core != "none":
        base["OPENBLAS_CORETYPE"] = core
    else:
        base.pop("OPENBLAS_CORETYPE", None)
    raw = open(a.json, "w") if a.json else None
    rows = []
    for cfg in a.configs.split(","):
        model, reg = cfg.split(":")
        common = ["--model", model, "--preset", a.preset, "--reg", reg, "--epochs", str(a.epochs),
                  "--scale", str(a.scale)]
        res = {"go": [], "torch2": [], "torch1": []}
        for i in range(a.pairs):
            goenv = dict(base, GOMAXPROCS="2")
            gocmd = [a.goepoch, "-model", model, "-preset", a.preset, "-reg", reg, "-epochs", str(a.epochs),
                     "-scale", str(a.scale)]
            runs = [
                ("go", gocmd, goenv),
                ("torch2", [sys.executable, os.path.join(HERE, "torch_epoch.py"), *common, "--threads", "2"],
                 dict(base, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")),
                ("torch1", [sys.executable, os.path.join(HERE, "torch_epoch.py"), *common, "--threads", "1"], base),
            ]
            for key, cmd, env in (runs if i % 2 == 0 else runs[::-1]):  # alternate who goes first
                r = run(cmd, env)
                res[key].append(r)
                if raw:
                    raw.write(json.dumps(r) + "\n")
                    raw.flush()
                last = r["epochs"][-1]
                print(f"# {model}/{reg} round {i + 1} {key}: wall {last['wall_s']:.2f} s, cpu {last['cpu_s']:.2f} s, "
                      f"rss {r['peak_rss_mib']:.0f} MiB", file=sys.stderr, flush=True)
        med = {k: {m: statistics.median(r["epochs"][-1][m] for r in v) for m in ("wall_s", "cpu_s")}
               for k, v in res.items()}
        rss = {k: statistics.median(r["peak_rss_mib"] for r in v) for k, v in res.items()}
        rows.append((model, reg, med, rss, res["go"][0]["epochs"][-1]["steps"], res["go"][0]["blas"]))
    print(f"| model | reg | steps | Go wall / cpu (s) | PyTorch 2t wall / cpu | PyTorch 1t wall / cpu "
          f"| Go/PT-2t wall | Go/PT-1t wall | Go/PT-2t cpu | peak RSS Go / PT-2t / PT-1t (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, reg, med, rss, steps, blas in rows:
        g, t2, t1 = med["go"], med["torch2"], med["torch1"]
        print(f"| {model} | {reg} | {steps} | {g['wall_s']:.2f} / {g['cpu_s']:.2f} | {t2['wall_s']:.2f} / {t2['cpu_s']:.2f} "
              f"| {t1['wall_s']:.2f} / {t1['cpu_s']:.2f} | {g['wall_s'] / t2['wall_s']:.2f} | {g['wall_s'] / t1['wall_s']:.2f} "
              f"| {g['cpu_s'] / t2['cpu_s']:.2f} | {rss['go']:.0f} / {rss['torch2']:.0f} / {rss['torch1']:.0f} |")
    print(f"\nGo BLAS: {rows[0][5]}; OPENBLAS_CORETYPE={base.get('OPENBLAS_CORETYPE', '(unset)')} for both sides; preset {a.preset}, scale {a.scale}, {a.pairs} rounds, medians of the last of "
          f"{a.epochs} epochs per process.")


if __name__ == "__main__":
    main()
