# Benchmarks: `make bench` compares synergo's epochs with PyTorch side by side
# (bench/README.md); `make bench-go` runs the Go benchmarks; `make
# test-openblas` runs the nn/models tests on the OpenBLAS build.
BENCH_PAIRS ?= 5
BENCH_SCALE ?= 1
BENCH_CONFIGS ?= eflstm:mmd,tfn:mmd,eflstm:none,tfn:none
# OpenBLAS's kernels for this CPU (Debian's 0.3.21 falls back to slow SSE3
# "Prescott" kernels on CPUs it does not know; see bench/README.md):
# SkylakeX with AVX-512, Haswell with AVX2, else OpenBLAS's own choice.
BENCH_CORETYPE ?= $(shell if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then echo SkylakeX; \
  elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo Haswell; fi)
OPENBLAS_ENV := CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas OPENBLAS_NUM_THREADS=1 \
  $(if $(BENCH_CORETYPE),OPENBLAS_CORETYPE=$(BENCH_CORETYPE))

.PHONY: bench bench-deps bench-go test-openblas

bench-deps:
	@dpkg -s python3-torch libopenblas0-pthread libopenblas-pthread-dev >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y python3-torch libopenblas0-pthread libopenblas-pthread-dev)

bench: bench-deps
	$(OPENBLAS_ENV) $(GO) build -tags openblas -o bench/goepoch.bin ./bench/goepoch
	$(OPENBLAS_ENV) /usr/bin/python3 bench/compare.py --goepoch bench/goepoch.bin --pairs $(BENCH_PAIRS) \
	  --scale $(BENCH_SCALE) --configs $(BENCH_CONFIGS) --json bench/last-run.jsonl \
	  --openblas-coretype $(if $(BENCH_CORETYPE),$(BENCH_CORETYPE),none)

bench-go: bench-deps
	$(OPENBLAS_ENV) $(GO) test -tags openblas -run XXX -bench 'Step/.*/mosi' -benchtime 5x ./bench/gobench/

test-openblas: bench-deps
	$(OPENBLAS_ENV) $(GO) test -count=1 -tags openblas ./synergy/nn/ ./synergy/models/ ./bench/...
