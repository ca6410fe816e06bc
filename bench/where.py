#!/usr/bin/python3
"""Where each model's training time goes, against the arithmetic floor.

For each preset, model and regularizer this runs bench/goepoch (a plain
`go build`, GOMAXPROCS=2) with a CPU profile, and prints one Markdown table:
the warm epochs' CPU and wall seconds; the floating-point work of the matrix
products synergo's kernels computed (goepoch's gemm_gflop: 2·m·n·k per
product, padded rows that the BERT models skip not included); the arithmetic
floor, that work at the kernels' peak on both cores (the peak measured here
with simdblas's BenchmarkSgemm square/512 on one core); and the CPU profile's
flat time in a few groups of functions (GEMM kernels and packing, optimizer,
memory copies and clears, dropout masks, LSTM cells, elementwise and row
kernels, gorgonia, regularizer, Go runtime, other). The achieved GEMM rate is
the work over the profile's GEMM seconds.

    go build -o goepoch.bin ./bench/goepoch
    /usr/bin/python3 bench/where.py --goepoch goepoch.bin --presets mosi:0.25,mosei:0.02 \\
        --models all --regs none,mmd --epochs 4 --out bench/where.md
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

MODELS = ["eflstm", "tfn", "lmf", "mfn", "magbert", "misa", "mmim"]

# Groups of the profile's functions, first match wins (patterns on the
# function's full name).
GROUPS = [
    ("GEMM", r"internal/simdblas\."),
    ("optimizer", r"internal/optvec\.|synergy/nn\.(adamw|\(\*AdamW\)|clip|scale|sumSquares|firstNonFinite)"),
    ("copy/clear", r"^runtime\.(memmove|memclr)"),
    ("dropout masks", r"math/rand|fillDropoutMask"),
    ("LSTM cells", r"internal/lstmcell\.|synergy/nn\.(lstm|\(\*lstm)"),
    ("elementwise/rows", r"internal/vecmath\.|synergy/nn\.|synergy/bert\.|synergy/models\.|datasets\."),
    ("gorgonia", r"^gorgonia\.org/"),
    ("regularizer", r"synergy/terms\.|synergy/estimate\.|synergo/synergy\.[^/]*$"),
    ("Go runtime", r"^runtime\.|^internal/runtime|^sync\.|^sync/atomic"),
]
GROUP_NAMES = [g for g, _ in GROUPS] + ["other"]
TOP_LINE = re.compile(r"^\s*([\d.]+)(ms|s|us|µs)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+(?:ms|s|us|µs)\s+[\d.]+%\s+(.*)$")
UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


def group_of(func):
    for name, pat in GROUPS:
        if re.search(pat, func):
            return name
    return "other"


def profile_groups(binary, prof):
    out = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=100000", binary, prof],
                         capture_output=True, text=True, check=True).stdout
    secs = {g: 0.0 for g in GROUP_NAMES}
    for line in out.splitlines():
        m = TOP_LINE.match(line)
        if m:
            secs[group_of(m.group(3).strip())] += float(m.group(1)) * UNIT[m.group(2)]
    return secs


def sgemm_peak():
    """One core's float32 GEMM rate (cpu-GFLOP/s) at square/512."""
    out = subprocess.run(["go", "test", "-run", "XXX", "-bench", "BenchmarkSgemm/square/512/simd$",
                          "-benchtime", "40x", "./internal/simdblas/"],
                         capture_output=True, text=True, check=True, env=dict(os.environ, GOMAXPROCS="1")).stdout
    m = re.search(r"([\d.]+) cpu-GFLOP/s", out)
    if not m:
        sys.exit("where.py: no cpu-GFLOP/s in the simdblas benchmark's output:\n" + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--goepoch", required=True, help="bench/goepoch built with a plain go build")
    ap.add_argument("--presets", default="mosi:0.25,mosei:0.02", help="preset:scale,...")
    ap.add_argument("--models", default="all")
    ap.add_argument("--regs", default="none,mmd")
    ap.add_argument("--epochs", type=int, default=4, help="per process; all but the first are averaged")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    if args.epochs < 2:
        sys.exit("where.py: --epochs must be at least 2 (the first epoch is cold)")
    models = MODELS if args.models == "all" else args.models.split(",")
    start, loads, blas = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), [os.getloadavg()[0]], ""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    peak = sgemm_peak()
    lines = [
        f"GEMM peak: {peak:.0f} GFLOP/s per core (simdblas square/512, one core); floor = GEMM work / (2 × peak).",
        "",
        "| preset | model | reg | epoch CPU / wall (s) | GEMM work (GFLOP) | floor (s) | GEMM achieved (GFLOP/s per CPU-s) | "
        + " | ".join(GROUP_NAMES) + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(GROUP_NAMES),
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            name, scale = preset.split(":")
            for model in models:
                for reg in args.regs.split(","):
                    prof = os.path.join(tmp, "cpu.prof")
                    cmd = [args.goepoch, "-model", model, "-preset", name, "-scale", scale, "-reg", reg,
                           "-epochs", str(args.epochs), "-infer-batches", "-1", "-cpuprofile", prof]
                    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, GOMAXPROCS="2"))
                    if res.returncode != 0:
                        sys.exit(f"where.py: {' '.join(cmd)}: {res.stderr.strip()}")
                    rec = json.loads(res.stdout)
                    blas = rec.get("blas", "")
                    loads.append(os.getloadavg()[0])
                    warm = rec["epochs"][1:]
                    cpu = sum(e["cpu_s"] for e in warm) / len(warm)
                    wall = sum(e["wall_s"] for e in warm) / len(warm)
                    gflop = sum(e["gemm_gflop"] for e in warm) / len(warm)
                    secs = profile_groups(args.goepoch, prof)
                    total = sum(secs.values()) or 1.0
                    # The profile covers every epoch; the GEMM seconds of an average epoch:
                    gemm_s = secs["GEMM"] / len(rec["epochs"])
                    achieved = gflop / gemm_s if gemm_s > 0 else float("nan")
                    line = (f"| {name}:{scale} | {model} | {reg} | {cpu:.3f} / {wall:.3f} | {gflop:.2f} | "
                            f"{gflop / (2 * peak):.3f} | {achieved:.0f} | "
                            + " | ".join(f"{100 * secs[g] / total:.0f} %" for g in GROUP_NAMES) + " |")
                    lines.append(line)
                    print(line, flush=True)
    header = (f"Run {start}–{time.strftime('%H:%M', time.gmtime())} UTC"
              + (f", commit {commit}" if commit else "")
              + f", load average (1 min) {min(loads):.1f}–{max(loads):.1f}; Go BLAS: {blas}; GOMAXPROCS=2, "
              + f"{args.epochs} epochs per process, the last {args.epochs - 1} averaged; the profile covers all.")
    print("\n" + header)
    if args.out:
        with open(args.out, "w") as f:
            f.write(header + "\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
