// Command goepoch times synergo training epochs for bench/compare.py: it
// generates the synthetic data set of a preset, builds the model (and the
// regularizer), trains the given number of epochs with bench/gobench's
// Trainer and prints one JSON line with per-epoch wall and CPU seconds, the
// peak RSS and the Go heap in use after each epoch (to show it does not
// grow), then the throughput of the evaluation graph over the training
// split. Graph building (Trainer.Prepare) is timed separately (setup_wall_s).
// -min-timed-steps trains more epochs than -epochs when the epochs after the
// first (the timed ones) would hold fewer steps: short epochs are noisy.
// -memprofile writes a pprof heap profile after the last epoch;
// -cpuprofile writes a pprof CPU profile of the training epochs (not of
// graph building or the inference pass).
//
//	goepoch -model tfn -preset mosi -reg mmd -epochs 2
//	goepoch -model lmf -preset mosi -scale 0.25 -reg kl -epochs 4 -min-timed-steps 40
//	goepoch -model tfn -preset mosei -scale 0.1 -reg mmd -memprofile heap.pprof
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/synergo/synergo/bench/gobench"
	"github.com/synergo/synergo/internal/gctune"
	"github.com/synergo/synergo/internal/simdblas"
	"github.com/synergo/synergo/synergy/nn"
)

type epochTime struct {
	WallS     float64 `json:"wall_s"`
	CPUS      float64 `json:"cpu_s"`
	Steps     int     `json:"steps"`
	HeapInUse float64 `json:"heap_inuse_mib"`
	// GEMMGFLOP is the floating-point work (2·m·n·k per product, 10⁹) of
	// the products synergo's kernels computed in the epoch (0 on other
	// BLASes), for the arithmetic floor.
	GEMMGFLOP float64 `json:"gemm_gflop"`
}

type report struct {
	Impl      string      `json:"impl"`
	Model     string      `json:"model"`
	Preset    string      `json:"preset"`
	Reg       string      `json:"reg"`
	Threads   int         `json:"threads"`
	Scale     float64     `json:"scale"`
	Batch     int         `json:"batch"`
	BLAS      string      `json:"blas"`
	Epochs    []epochTime `json:"epochs"`
	PeakRSS   float64     `json:"peak_rss_mib"`
	SetupWall float64     `json:"setup_wall_s"`
	// InferSamples samples of the training split ran through the
	// evaluation graph in InferWall / InferCPU seconds (after training).
	InferSamples int     `json:"infer_samples"`
	InferWall    float64 `json:"infer_wall_s"`
	InferCPU     float64 `json:"infer_cpu_s"`
}

func main() {
	var s gobench.Setup
	flag.StringVar(&s.Model, "model", "tfn", "model: eflstm, tfn, lmf, mfn")
	flag.StringVar(&s.Preset, "preset", "mosi", "synthetic data preset: mosi, mosei")
	flag.StringVar(&s.Regularizer, "reg", "none", "regularizer: none, mmd, kl")
	flag.Float64Var(&s.Scale, "scale", 1, "scale of the preset's split sizes")
	flag.IntVar(&s.Batch, "batch", 0, "batch size (0: the model's MMSA default)")
	flag.Uint64Var(&s.Seed, "seed", 1, "seed")
	epochs := flag.Int("epochs", 1, "epochs to train (graphs are built before the first)")
	minTimed := flag.Int("min-timed-steps", 0, "train more epochs than -epochs if needed, until the epochs after the first hold at least this many steps")
	inferBatches := flag.Int("infer-batches", 0, "evaluation batches to time after training (0: every full batch of the training split, -1: none)")
	memProfile := flag.String("memprofile", "", "write a heap profile (pprof, in-use and allocated bytes by call site) to this file after the last epoch")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (pprof) of the training epochs to this file")
	traceFile := flag.String("trace", "", "write an execution trace (go tool trace) of the training epochs to this file")
	flag.Parse()
	defer gctune.ForTraining()() // as synergy/train's Run
	if err := run(os.Stdout, s, *epochs, *minTimed, *inferBatches, *memProfile, *cpuProfile, *traceFile); err != nil {
		fmt.Fprintln(os.Stderr, "goepoch:", err)
		os.Exit(1)
	}
}

// run trains and writes the JSON line to out.
func run(out io.Writer, s gobench.Setup, epochs, minTimed, inferBatches int, memProfile, cpuProfile, traceFile string) error {
	if epochs < 1 {
		return fmt.Errorf("-epochs %d, want ≥ 1", epochs)
	}
	if minTimed < 0 {
		return fmt.Errorf("-min-timed-steps %d, want ≥ 0", minTimed)
	}
	t0 := time.Now()
	tr, err := gobench.NewTrainer(s)
	if err != nil {
		return err
	}
	defer tr.Close()
	if err := tr.Prepare(); err != nil {
		return err
	}
	r := report{Impl: "go", Model: s.Model, Preset: s.Preset, Reg: s.Regularizer, Threads: runtime.GOMAXPROCS(0),
		Scale: s.Scale, Batch: tr.BatchSize(), BLAS: nn.BLASBackend(), SetupWall: time.Since(t0).Seconds()}
	stopProfile, err := startRecording("-cpuprofile", cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	stopTrace, err := startRecording("-trace", traceFile, trace.Start, trace.Stop)
	if err != nil {
		stopProfile()
		return err
	}
	timed := 0 // steps of the epochs after the first
	for e := 0; e < epochs || timed < minTimed; e++ {
		w0, c0, f0 := time.Now(), gobench.ProcessCPUTime(), simdblas.MultiplyAdds()
		steps, err := tr.Epoch()
		if err != nil {
			return err
		}
		if steps < 1 && minTimed > 0 {
			return fmt.Errorf("-min-timed-steps %d: epoch %d took no step", minTimed, e+1)
		}
		if e > 0 {
			timed += steps
		}
		et := epochTime{WallS: time.Since(w0).Seconds(), CPUS: (gobench.ProcessCPUTime() - c0).Seconds(), Steps: steps,
			GEMMGFLOP: 2 * float64(simdblas.MultiplyAdds()-f0) / 1e9}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		et.HeapInUse = float64(ms.HeapInuse) / (1 << 20)
		r.Epochs = append(r.Epochs, et)
	}
	if err := stopProfile(); err != nil {
		return err
	}
	if err := stopTrace(); err != nil {
		return err
	}
	if inferBatches >= 0 {
		n, predict, err := tr.Inference(inferBatches)
		if err != nil {
			return err
		}
		w0, c0 := time.Now(), gobench.ProcessCPUTime()
		if err := predict(); err != nil {
			return err
		}
		r.InferSamples, r.InferWall, r.InferCPU = n, time.Since(w0).Seconds(), (gobench.ProcessCPUTime() - c0).Seconds()
	}
	r.PeakRSS = float64(gobench.PeakRSSBytes()) / (1 << 20)
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return err
		}
	}
	return json.NewEncoder(out).Encode(r)
}

// writeHeapProfile writes the heap profile to path (while the trainer's
// graphs are still alive).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("-memprofile %s: %w", path, err)
	}
	return f.Close()
}

// startRecording starts a recording of the training epochs (a CPU profile
// or an execution trace) into the file path names, unless path is empty,
// and returns the function that stops it and closes the file; flag names
// the option in errors.
func startRecording(flag, path string, start func(io.Writer) error, stop func()) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return func() error {
		stop()
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		return nil
	}, nil
}
