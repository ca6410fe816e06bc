# Benchmarks (bench/README.md): `make bench` compares synergo's training
# epochs and inference with PyTorch's, all seven models, without and with
# S_MMD and S_KL, at MOSI and MOSEI shapes, the default build beside the
# openblas build; `make bench-go` runs the Go step benchmarks; `make
# test-openblas` runs the tests on the openblas build; `make bench-where`
# prints where each model's CPU time goes against the arithmetic floor of
# its matrix products (bench/where.py, bench/where.md).
#
#   make bench                      quick: 1 round, MOSI at 1/4 and MOSEI at 1/50 of the training split
#   make bench BENCH_MODE=full      3 rounds, MOSI whole and MOSEI at 1/4
# Each process trains BENCH_EPOCHS epochs (a Go process more, until its timed
# epochs hold 40 steps); the first is a warm-up, the mean of the others is
# timed.
#   make bench BENCH_MODELS=tfn,lmf BENCH_REGS=none,mmd BENCH_PRESETS=mosi:1 BENCH_PAIRS=5
BENCH_MODE ?= quick
ifeq ($(BENCH_MODE),full)
BENCH_PAIRS ?= 3
BENCH_PRESETS ?= mosi:1,mosei:0.25
else
BENCH_PAIRS ?= 1
BENCH_PRESETS ?= mosi:0.25,mosei:0.02
endif
BENCH_MODELS ?= all
BENCH_REGS ?= none,mmd,kl
BENCH_EPOCHS ?= 4
# OpenBLAS's kernels for this CPU (Debian's 0.3.21 falls back to slow SSE3
# "Prescott" kernels on CPUs it does not know; see bench/README.md):
# SkylakeX with AVX-512, Haswell with AVX2, else OpenBLAS's own choice.
BENCH_CORETYPE ?= $(shell if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then echo SkylakeX; \
  elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo Haswell; fi)
OPENBLAS_ENV := CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas OPENBLAS_NUM_THREADS=1 \
  $(if $(BENCH_CORETYPE),OPENBLAS_CORETYPE=$(BENCH_CORETYPE))

.PHONY: bench bench-deps bench-go bench-where test-openblas

bench-deps:
	@dpkg -s python3-torch libopenblas0-pthread libopenblas-pthread-dev >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y python3-torch libopenblas0-pthread libopenblas-pthread-dev)

bench: bench-deps
	$(GO) build -o bench/goepoch.bin ./bench/goepoch
	$(OPENBLAS_ENV) $(GO) build -tags openblas -o bench/goepoch-openblas.bin ./bench/goepoch
	$(OPENBLAS_ENV) /usr/bin/python3 bench/compare.py --goepoch bench/goepoch.bin \
	  --goepoch-openblas bench/goepoch-openblas.bin --pairs $(BENCH_PAIRS) --presets $(BENCH_PRESETS) \
	  --epochs $(BENCH_EPOCHS) --models $(BENCH_MODELS) --regs $(BENCH_REGS) --json bench/last-run.jsonl \
	  --openblas-coretype $(if $(BENCH_CORETYPE),$(BENCH_CORETYPE),none) | tee bench/last-run.md

bench-where:
	$(GO) build -o bench/goepoch.bin ./bench/goepoch
	/usr/bin/python3 bench/where.py --goepoch bench/goepoch.bin --presets $(BENCH_PRESETS) \
	  --models $(BENCH_MODELS) --regs none,mmd --out bench/where.md

bench-go:
	$(GO) test -run XXX -bench 'Step/.*/mosi' -benchtime 5x ./bench/gobench/

test-openblas: bench-deps
	$(OPENBLAS_ENV) $(GO) test -count=1 -tags openblas ./internal/... ./synergy/nn/... ./synergy/bert/... ./synergy/models/... ./bench/...
