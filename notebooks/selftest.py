#!/usr/bin/python3
"""Proves that run_notebooks.py fails when it must and passes when it should.

Builds five tiny notebooks for the synergo kernel in a temporary directory and runs the runner on
each one separately:

  go-error.ipynb   a cell with a Go compile error (undefined identifier) after a good cell
                   -> the runner must exit 1 AND still write the executed notebook, with the
                      first cell's output and an "error" output in the second;
  no-plot.ipynb    valid Go that prints but draws nothing -> exit 1 (no image/png output);
  committed-outputs.ipynb  a source notebook that still carries an output -> exit 1;
  good.ipynb       imports the linked viz package and displays a figure, with CGO_ENABLED=0 so
                   that building any package as a run-time plugin would fail
                   -> exit 0 with one image/png output: viz is linked into the kernel; and prints
                      nn.BLASBackend(), which must be synergo's SIMD BLAS (AVX-512 or AVX2+FMA, as the CPU has);
  plugin-control.ipynb  imports gonum/floats, which is not linked, with CGO_ENABLED=0
                   -> exit 1 with a "-buildmode=plugin" error: the good case above is meaningful.

Exit status 0 when all five behave, 1 otherwise. Needs the kernel (make kernel) and JUPYTER_PATH.
"""

import os
import subprocess
import sys
import tempfile

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_notebooks.py")

KERNELSPEC = {"name": "synergo", "display_name": "Go (synergo)", "language": "go"}

CASES = {
    "go-error": (
        [
            'import "fmt"\n_, _ = fmt.Println("selftest: before the error")',
            "y := undefinedIdentifier + 1",
        ],
        1,
    ),
    "no-plot": (['import "fmt"\n_, _ = fmt.Println("selftest: text only")'], 1),
    "committed-outputs": (['import "fmt"\n_, _ = fmt.Println("selftest: stale output below")'], 1),
    "good": (
        [
            'import "github.com/synergo/synergo/viz"',
            'p, err := viz.MMDCurves("selftest: made-up numbers", []viz.Series{{Name: "text", '
            "X: []float64{1, 2, 3}, Y: []float64{0.3, 0.2, 0.1}}})\n"
            "if err != nil {\n\tpanic(err)\n}\n"
            "img, err := viz.Render(p, viz.DefaultWidth, viz.DefaultHeight)\n"
            "if err != nil {\n\tpanic(err)\n}\n"
            "display.Image(img)",
            'import (\n\t"fmt"\n\n\t"github.com/synergo/synergo/synergy/nn"\n)\n'
            '_, _ = fmt.Println("selftest BLAS: " + nn.BLASBackend())',
        ],
        0,
    ),
    "plugin-control": (['import "gonum.org/v1/gonum/floats"'], 1),
}

# Environment per case on top of the caller's: no cgo means no run-time plugins.
NO_PLUGINS = {"CGO_ENABLED": "0"}
CASE_ENV = {"good": NO_PLUGINS, "plugin-control": NO_PLUGINS}


def main():
    failures = []
    with tempfile.TemporaryDirectory(prefix="synergo-nb-selftest-") as tmp:
        for name, (cells, want) in CASES.items():
            nb = new_notebook(cells=[new_code_cell(src) for src in cells])
            nb.metadata["kernelspec"] = KERNELSPEC
            if name == "committed-outputs":
                nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale\n")]
            path = os.path.join(tmp, name + ".ipynb")
            nbformat.write(nb, path)
            out = os.path.join(tmp, "out")
            r = subprocess.run(
                [sys.executable, RUNNER, "--no-html", "--timeout", "120", "--out", out, path],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=dict(os.environ, **CASE_ENV.get(name, {})),
            )
            got = r.returncode
            print("selftest %-17s runner exit %d (want %d)" % (name, got, want))
            if got != want:
                failures.append("%s: runner exited %d, want %d\n%s" % (name, got, want, r.stdout))
                continue
            if name == "committed-outputs" and "carries 1 outputs" not in r.stdout:
                failures.append("committed-outputs: runner did not report the committed output:\n" + r.stdout)
            executed = os.path.join(out, name + ".ipynb")
            if not os.path.isfile(executed):
                failures.append("%s: runner wrote no executed notebook %s" % (name, executed))
                continue
            done = nbformat.read(executed, as_version=4)
            outs = [o for c in done.cells for o in c.get("outputs", [])]
            types = [o.get("output_type") for o in outs]
            if name == "go-error":
                first = "".join(o.get("text", "") for o in done.cells[0].get("outputs", []))
                if "before the error" not in first:
                    failures.append("go-error: first cell's output missing from %s" % executed)
                if "error" not in [o.get("output_type") for o in done.cells[1].get("outputs", [])]:
                    failures.append("go-error: no error output in cell 1 of %s: %s" % (executed, types))
            if name == "plugin-control":
                errs = [o.get("evalue", "") for o in outs if o.get("output_type") == "error"]
                if not any("buildmode=plugin" in e for e in errs):
                    failures.append("plugin-control: no plugin build error in %s: %s" % (executed, errs))
            if name == "good":
                pngs = [o for o in outs if "image/png" in o.get("data", {})]
                if len(pngs) != 1:
                    failures.append("good: %d image/png outputs, want 1: %s" % (len(pngs), types))
                # The kernel multiplies matrices on the build's default BLAS: synergo's SIMD
                # kernels — AVX-512 where the CPU has AVX512F (unless SYNERGO_SIMD=avx2), else
                # AVX2+FMA (as `go test ./synergy/nn` checks for the CLI's build) — pure-Go
                # gonum elsewhere.
                text = "".join(o.get("text", "") for o in outs)
                flags = open("/proc/cpuinfo").read().split() if os.path.exists("/proc/cpuinfo") else []
                want_blas = "gonum (pure Go)"
                if "avx2" in flags and "fma" in flags:
                    want_blas = "synergo SIMD (AVX2+FMA)"
                    if "avx512f" in flags and os.environ.get("SYNERGO_SIMD", "").strip().lower() != "avx2":
                        want_blas = "synergo SIMD (AVX-512)"
                if "selftest BLAS: " + want_blas not in text:
                    failures.append("good: the kernel's BLAS is not %r: %r" % (want_blas, text))
                else:
                    print("selftest kernel BLAS: " + text.split("selftest BLAS: ")[1].splitlines()[0])
    for f in failures:
        print("FAIL " + f)
    print("notebooks-selftest: %s" % ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
