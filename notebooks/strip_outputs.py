#!/usr/bin/python3
"""Removes outputs and execution counts from notebooks in place, so they can be committed clean.

Usage: strip_outputs.py NOTEBOOK...   (make notebooks-strip runs it on notebooks/*.ipynb)
run_notebooks.py refuses to run a notebook that still carries outputs.
"""

import sys

import nbformat


def strip(path):
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"] = []
        cell["execution_count"] = None
        if "execution" in cell.get("metadata", {}):
            del cell["metadata"]["execution"]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for path in sys.argv[1:]:
        print("%s %s" % ("stripped" if strip(path) else "clean   ", path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
