# synergo — see README.md. Every target installs what it needs.
SHELL := /bin/bash
GO ?= go

.PHONY: all build test vet fmt-check fixtures

all: build

build:
	$(GO) build ./...

# The test command of the README and of CI.
test: vet fmt-check
	$(GO) test -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Regenerate the reference fixtures with Debian's numpy/h5py/torch/sklearn.
fixtures:
	bash scripts/install-python-deps.sh
	set -e; for s in $$(git ls-files '*/testdata/*.py'); do echo "== $$s"; (cd $$(dirname $$s) && /usr/bin/python3 $$(basename $$s)); done

# Kernel, notebooks, browser check: see notebooks/notebooks.mk.
-include notebooks/notebooks.mk
-include bench/bench.mk
-include scripts/slurm/slurm.mk
