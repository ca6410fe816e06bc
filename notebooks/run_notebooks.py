#!/usr/bin/python3
"""Executes Jupyter notebooks headless on the synergo kernel and checks them.

Usage: run_notebooks.py [--out DIR] [--kernel NAME] [--timeout S] [--no-html] NOTEBOOK...

For every notebook it starts a fresh kernel in the notebook's directory, runs the cells in order
with nbclient, prints the wall time of each cell, and ALWAYS writes the executed notebook to
DIR/<name>.ipynb (also when a cell fails, so the failure can be read) plus an HTML export
DIR/<name>.html made with `jupyter nbconvert --to html`.

A notebook fails when its source file carries outputs (notebooks are committed clean; see
strip_outputs.py), when a cell raises an error (compile error, panic, dead kernel, timeout), when an
output of type "error" is present, or when no cell produced an image/png output (every synergo
notebook plots). gomacro's "skipping import of <generic symbol>" warnings are removed from the
saved stream outputs. The exit status is 1 when any notebook failed, 2 for bad usage, 0 otherwise.
The environment (e.g. SYNERGO_SCALE=quick|full) is passed through to the kernels.

Runs with Debian's /usr/bin/python3 and python3-nbclient (0.7) / jupyter-nbconvert (6.5).
"""

import argparse
import os
import re
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def short(text, n=300):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


# gomacro prints one line per generic symbol it cannot import into the cell's stdout
# (gomacro cannot import generic symbols); the runner drops exactly those lines from saved outputs.
GOMACRO_GENERIC_WARNING = re.compile(
    r"^// warning: skipping import of .*(importing generic functions or types is not supported yet"
    r"|unsupported types\.Type: \*types\.Union)\n?",
    re.M,
)


def drop_generic_warnings(nb):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = GOMACRO_GENERIC_WARNING.sub("", out.get("text", ""))
                if not out["text"]:
                    continue
            kept.append(out)
        cell["outputs"] = kept


def problems_in(nb):
    """Returns the reasons an executed notebook counts as failed (empty when it passed)."""
    reasons = []
    pngs = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                reasons.append(
                    "cell %d: error %s: %s" % (i, out.get("ename", ""), short(out.get("evalue", "")))
                )
            if "image/png" in out.get("data", {}):
                pngs += 1
    if pngs == 0:
        reasons.append("no image/png output (every notebook must plot)")
    return reasons


def run_one(path, out_dir, kernel, timeout, html):
    name = os.path.splitext(os.path.basename(path))[0]
    nb = nbformat.read(path, as_version=4)
    committed = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    kernel_name = kernel or nb.metadata.get("kernelspec", {}).get("name") or "synergo"
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    # nbclient runs cells one after another, so a code cell's wall time is the time from its
    # start to the next cell's start (or to the end of the run).
    starts = []

    def on_cell_start(cell, cell_index):
        if cell.cell_type == "code":
            starts.append((cell_index, time.monotonic()))

    client.on_cell_start = on_cell_start

    print("== %s (kernel %s)" % (path, kernel_name), flush=True)
    t0 = time.monotonic()
    reasons = []
    try:
        client.execute()
    except CellTimeoutError as e:
        reasons.append("timeout after %s s: %s" % (timeout, short(e)))
    except DeadKernelError as e:
        reasons.append("kernel died: %s" % short(e))
    except CellExecutionError:
        pass  # the error output is in the notebook; problems_in reports it
    except Exception as e:  # kernel failed to start, bad kernelspec, ...
        reasons.append("%s: %s" % (type(e).__name__, short(e)))
    end = time.monotonic()
    wall = end - t0
    for k, (index, t) in enumerate(starts):
        t_next = starts[k + 1][1] if k + 1 < len(starts) else end
        print("  cell %2d  %7.2f s" % (index, t_next - t), flush=True)
    if committed:
        reasons.append(
            "%s carries %d outputs; notebooks are committed without outputs (make notebooks-strip)" % (path, committed)
        )
    reasons.extend(problems_in(nb))
    drop_generic_warnings(nb)

    os.makedirs(out_dir, exist_ok=True)
    out_nb = os.path.join(out_dir, name + ".ipynb")
    nbformat.write(nb, out_nb)
    if html:
        r = subprocess.run(
            ["jupyter-nbconvert", "--to", "html", "--log-level=WARN", "--output-dir", out_dir, out_nb],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if r.returncode != 0:
            reasons.append("HTML export failed: %s" % short(r.stdout))
    status = "FAIL" if reasons else "ok"
    print("%s %s  %.1f s  -> %s" % (status, path, wall, out_nb), flush=True)
    for r in reasons:
        print("   " + r, flush=True)
    return not reasons, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--out", default="results/notebooks")
    ap.add_argument("--kernel", default="", help="kernel name (default: the notebook's kernelspec)")
    ap.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    ap.add_argument("--no-html", action="store_true")
    args = ap.parse_args()

    failed = []
    total = 0.0
    for path in args.notebooks:
        if not os.path.isfile(path):
            print("no such notebook: %s" % path, file=sys.stderr)
            return 2
        ok, wall = run_one(path, args.out, args.kernel, args.timeout, not args.no_html)
        total += wall
        if not ok:
            failed.append(path)
    print(
        "%d notebook(s), %d failed, %.1f s in kernels (SYNERGO_SCALE=%s)"
        % (len(args.notebooks), len(failed), total, os.environ.get("SYNERGO_SCALE", "quick"))
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
