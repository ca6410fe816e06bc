#!/usr/bin/python3
"""Side-by-side epoch timing of synergo (Go: the default build, and the
openblas build when given) and the PyTorch ports in torch_models.py.

For each preset (MOSI, MOSEI shapes at a scale of their training split) and
each model, --pairs rounds run every process of every regularizer setting
once — Go, Go with OpenBLAS, PyTorch with 2 threads, PyTorch with 1 thread,
without the regularizer, with S_MMD, with S_KL — in an order that is
reversed every other round: a slower or faster spell of a shared host then
falls on all settings alike instead of on one, which the regularizer's
overhead (a ratio of two settings) would take for its own. Each process
trains --epochs epochs (the first is a warm-up; the mean of the others is
timed) and then times the evaluation forward pass over the training split.
A Go process trains more epochs when its timed epochs would hold fewer than
--go-min-steps steps: Go's epochs take 0.05–1.5 s at the default sizes, too
short to time a 1.3× ratio (the regularizer's overhead target) from three of
them; PyTorch's take 3–4× longer and keep --epochs. Printed, as Markdown
tables:

- per preset and configuration: medians of the timed epoch (wall and CPU
  seconds) of every side, the ratio of each Go build to PyTorch's best
  thread count (the faster median wall of 1 and 2 threads), the peak RSS of
  every side, and inference throughput (samples/s) of Go and PyTorch's best;
- the regularizer's overhead: each model's epoch with S_MMD and S_KL over
  its epoch without the regularizer, for Go (default build) and PyTorch.

    /usr/bin/python3 bench/compare.py --goepoch bench/goepoch.bin --goepoch-openblas bench/goepoch-openblas.bin \\
        --pairs 3 --presets mosi:1,mosei:0.1 --models all --regs none,mmd,kl
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_MODELS = ["eflstm", "tfn", "lmf", "mfn", "magbert", "misa", "mmim"]
SIDES = ["go", "go-openblas", "torch2", "torch1"]


def detect_coretype():
    """The OpenBLAS kernel set for this CPU: SkylakeX with AVX-512, Haswell
    with AVX2, else None (let OpenBLAS choose). Debian's OpenBLAS 0.3.21 falls
    back to its SSE3 "Prescott" kernels on CPUs it does not know, several
    times slower, for Go and PyTorch alike; both sides get the same
    OPENBLAS_CORETYPE."""
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
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def overhead(with_reg, without):
    """The regularizer's overhead from the records of one side with and
    without it: per round, the ratio of the two processes' timed epochs; the
    median over rounds of the wall ratios with their range, and of the CPU
    ratios."""
    base = {r["round"]: r for r in without}
    pairs = [(r, base[r["round"]]) for r in with_reg if r["round"] in base]
    if not pairs:
        return "–"
    wall = sorted(epoch(r, "wall_s") / epoch(b, "wall_s") for r, b in pairs)
    cpu = statistics.median(epoch(r, "cpu_s") / epoch(b, "cpu_s") for r, b in pairs)
    return f"{statistics.median(wall):.2f} [{wall[0]:.2f}–{wall[-1]:.2f}] ({cpu:.2f})"


def med(records, f):
    return statistics.median(f(r) for r in records)


def epoch(r, key):
    """The timed figure of a process: the mean over its warm epochs (all but
    the first), or its only epoch."""
    warm = r["epochs"][1:] or r["epochs"]
    return statistics.fmean(e[key] for e in warm)


def throughput(r):
    return r["infer_samples"] / r["infer_wall_s"] if r.get("infer_wall_s") else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goepoch", help="bench/goepoch built with a plain go build (the default)")
    ap.add_argument("--goepoch-openblas", help="bench/goepoch built with -tags openblas (optional)")
    ap.add_argument("--pairs", type=int, default=3, help="rounds per configuration")
    ap.add_argument("--epochs", type=int, default=1, help="per process; the mean of all but the first is timed")
    ap.add_argument("--go-min-steps", type=int, default=40,
                    help="Go processes train more epochs until the timed ones hold at least this many steps (0: --epochs)")
    ap.add_argument("--presets", default="mosi:1,mosei:0.1",
                    help="comma-separated preset:scale (scale of the training split: 1 = 1,284 MOSI / 16,326 MOSEI samples)")
    ap.add_argument("--models", default="all", help="comma-separated models or 'all'")
    ap.add_argument("--regs", default="none,mmd,kl", help="comma-separated regularizers (none, mmd, kl)")
    ap.add_argument("--infer-batches", type=int, default=0, help="evaluation batches timed per process (0: all full batches)")
    ap.add_argument("--json", help="also write every raw record to this JSON-lines file")
    ap.add_argument("--from-json", nargs="+", metavar="FILE",
                    help="print the tables of the raw records in these --json files (of one or several runs) "
                         "instead of running anything; --goepoch is then not needed")
    ap.add_argument("--openblas-coretype", default="auto",
                    help="OPENBLAS_CORETYPE for every process: auto (from /proc/cpuinfo unless already set), "
                         "none (OpenBLAS's own choice) or a kernel name such as Haswell")
    a = ap.parse_args()
    if a.from_json:
        report_files(a.from_json)
        return
    if not a.goepoch:
        ap.error("--goepoch is required unless --from-json is given")
    models = ALL_MODELS if a.models == "all" else a.models.split(",")
    regs = a.regs.split(",")
    presets = [(p.split(":")[0], float(p.split(":")[1]) if ":" in p else 1.0) for p in a.presets.split(",")]
    base = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    core = a.openblas_coretype
    if core == "auto":
        core = os.environ.get("OPENBLAS_CORETYPE") or detect_coretype()
    if core and core != "none":
        base["OPENBLAS_CORETYPE"] = core
    else:
        base.pop("OPENBLAS_CORETYPE", None)
    sides = [s for s in SIDES if s != "go-openblas" or a.goepoch_openblas]
    raw = open(a.json, "w") if a.json else None
    start = datetime.datetime.now(datetime.timezone.utc)
    loads = [os.getloadavg()[0]]
    results = {}  # (preset, model, reg) → side → [records]
    for preset, scale in presets:
        for model in models:
            cmds, res = {}, {}
            for reg in regs:
                res[reg] = {s: [] for s in sides}
                common = ["--model", model, "--preset", preset, "--reg", reg, "--epochs", str(a.epochs),
                          "--scale", str(scale), "--infer-batches", str(a.infer_batches)]
                gocommon = ["-model", model, "-preset", preset, "-reg", reg, "-epochs", str(a.epochs),
                            "-min-timed-steps", str(a.go_min_steps),
                            "-scale", str(scale), "-infer-batches", str(a.infer_batches)]
                goenv = dict(base, GOMAXPROCS="2")
                cmds[reg] = {
                    "go": ([a.goepoch, *gocommon], goenv),
                    "go-openblas": ([a.goepoch_openblas, *gocommon], goenv),
                    "torch2": ([sys.executable, os.path.join(HERE, "torch_epoch.py"), *common, "--threads", "2"],
                               dict(base, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")),
                    "torch1": ([sys.executable, os.path.join(HERE, "torch_epoch.py"), *common, "--threads", "1"], base),
                }
            # Each round runs every setting of the model, so that a change of
            # the host's speed between rounds (another tenant) shifts the
            # epochs with and without the regularizer alike and leaves their
            # ratio; the order of settings and of sides is reversed every
            # other round.
            for i in range(a.pairs):
                for reg in (regs if i % 2 == 0 else regs[::-1]):
                    for side in (sides if i % 2 == 0 else sides[::-1]):
                        cmd, env = cmds[reg][side]
                        r = run(cmd, env)
                        r["side"], r["round"] = side, i + 1
                        r["loadavg"] = os.getloadavg()[0]
                        loads.append(r["loadavg"])
                        res[reg][side].append(r)
                        if raw:
                            raw.write(json.dumps(r) + "\n")
                            raw.flush()
                        print(f"# {preset}/{model}/{reg} round {i + 1} {side}: wall {epoch(r, 'wall_s'):.2f} s, "
                              f"cpu {epoch(r, 'cpu_s'):.2f} s, rss {r['peak_rss_mib']:.0f} MiB, "
                              f"infer {throughput(r):.0f}/s, load {r['loadavg']:.1f}", file=sys.stderr, flush=True)
            for reg in regs:
                results[(preset, model, reg)] = res[reg]
    end = datetime.datetime.now(datetime.timezone.utc)
    first = next(iter(results.values()))
    blas = {s: first[s][0].get("blas", "") for s in sides if s.startswith("go")}
    print(f"Run {start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC, load average (1 min) {min(loads):.1f}–{max(loads):.1f} "
          f"(median {statistics.median(loads):.1f}); {a.pairs} round(s), medians of each process's mean over its epochs but the first, of {a.epochs} (Go: at least {a.go_min_steps} timed steps) "
          f"per process; OPENBLAS_CORETYPE={base.get('OPENBLAS_CORETYPE', '(unset)')}; Go BLAS: "
          + "; ".join(f"{s} = {b}" for s, b in blas.items()) + ".\n")
    report(results, presets, models, regs, sides)


def report_files(paths):
    """Prints the tables of the raw records in paths (compare.py --json
    files): records are grouped by preset, model, regularizer and side, in
    the order they first appear."""
    results, presets, models, regs, loads, rounds, epochs, blas = {}, {}, [], [], [], {}, set(), {}
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                key = (r["preset"], r["model"], r["reg"])
                results.setdefault(key, {}).setdefault(r["side"], []).append(r)
                presets.setdefault(r["preset"], set()).add(r["scale"])
                models += [r["model"]] if r["model"] not in models else []
                regs += [r["reg"]] if r["reg"] not in regs else []
                loads.append(r["loadavg"])
                rounds[key] = max(rounds.get(key, 0), r["round"])
                epochs.add(len(r["epochs"]))
                if r["side"].startswith("go"):
                    blas[r["side"]] = r.get("blas", "")
    sides = [s for s in SIDES if any(s in res for res in results.values())]
    results = {k: res for k, res in results.items() if all(res.get(s) for s in sides)}  # complete rounds only
    print(f"Records of {', '.join(os.path.basename(p) for p in paths)}: load average (1 min) "
          f"{min(loads):.1f}–{max(loads):.1f} (median {statistics.median(loads):.1f}); "
          f"{min(rounds.values())}–{max(rounds.values())} round(s), medians of each process's mean over its epochs but the first, of "
          f"{'/'.join(str(e) for e in sorted(epochs))} epoch(s) per process; Go BLAS: "
          + "; ".join(f"{s} = {b}" for s, b in blas.items()) + ".\n")
    scale = {p: "/".join(f"{x:g}" for x in sorted(s)) for p, s in presets.items()}
    report(results, list(scale.items()), models, regs, sides)


def report(results, presets, models, regs, sides):
    ob = "go-openblas" in sides
    for preset, scale in presets:
        print(f"### {preset} (scale {scale})\n" if isinstance(scale, str) else f"### {preset} (scale {scale:g})\n")
        head = "| model | reg | steps | Go wall / cpu (s) |"
        if ob:
            head += " Go-OpenBLAS wall / cpu |"
        head += " PT 2t wall / cpu | PT 1t wall / cpu | **Go / best PT** wall (cpu) |"
        if ob:
            head += " Go-OpenBLAS / best PT |"
        head += " peak RSS Go" + (" / Go-OpenBLAS" if ob else "") + " / best PT (MiB) | inference Go / best PT (samples/s) |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for model in models:
            for reg in regs:
                res = results.get((preset, model, reg))
                if res is None:
                    continue
                w = {s: med(res[s], lambda r: epoch(r, "wall_s")) for s in sides}
                c = {s: med(res[s], lambda r: epoch(r, "cpu_s")) for s in sides}
                rss = {s: med(res[s], lambda r: r["peak_rss_mib"]) for s in sides}
                thr = {s: med(res[s], throughput) for s in sides}
                best = "torch2" if w["torch2"] < w["torch1"] else "torch1"
                best_inf = max(thr["torch2"], thr["torch1"])
                row = f"| {model} | {reg} | {res['go'][0]['epochs'][-1]['steps']} | {w['go']:.2f} / {c['go']:.2f} |"
                if ob:
                    row += f" {w['go-openblas']:.2f} / {c['go-openblas']:.2f} |"
                row += (f" {w['torch2']:.2f} / {c['torch2']:.2f} | {w['torch1']:.2f} / {c['torch1']:.2f} |"
                        f" **{w['go'] / w[best]:.2f}** ({c['go'] / c[best]:.2f}) |")
                if ob:
                    row += f" {w['go-openblas'] / w[best]:.2f} ({c['go-openblas'] / c[best]:.2f}) |"
                row += f" {rss['go']:.0f}" + (f" / {rss['go-openblas']:.0f}" if ob else "") + f" / {rss[best]:.0f} |"
                row += f" {thr['go']:.0f} / {best_inf:.0f} |"
                print(row)
        print()
    if "none" not in regs or len(regs) < 2:
        return
    print("### Regularizer overhead (epoch with the regularizer ÷ without, each round's pair of processes; "
          "median over rounds of the wall ratio [lowest–highest] (median CPU ratio))\n")
    others = [r for r in regs if r != "none"]
    head = "| preset | model | " + " | ".join(f"Go {r}" for r in others) + " | " + " | ".join(f"best PT {r}" for r in others) + " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for preset, _ in presets:
        for model in models:
            base_res = results.get((preset, model, "none"))
            if base_res is None or any((preset, model, r) not in results for r in others):
                continue

            def ratio(side, reg):
                return overhead(results[(preset, model, reg)][side], base_res[side])

            def best_pt(reg):
                res = results[(preset, model, reg)]
                return min(("torch2", "torch1"), key=lambda s: med(res[s], lambda r: epoch(r, "wall_s")))

            print(f"| {preset} | {model} | " + " | ".join(ratio("go", r) for r in others) + " | "
                  + " | ".join(ratio(best_pt(r), r) for r in others) + " |")
    print()


if __name__ == "__main__":
    main()
