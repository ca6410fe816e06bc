package nn

import (
	"runtime"

	G "gorgonia.org/gorgonia"
)

// NewTapeMachine returns gorgonia's tape machine for g, like
// G.NewTapeMachine, without the finalizer gorgonia v0.9.18 attaches to it.
//
// That finalizer (a no-op without CUDA) makes graphs leak. The Go runtime
// never runs the finalizer of an object in a reference cycle, and the usual
// pattern builds one: a struct keeps the machine and the G.Value copies that
// G.Read ops write into it, so machine → program → read op → struct →
// machine. The cycle — the graph, its value tensors, every op's buffers — is
// then never freed. A grid
// that trains runs one after another in one process then grows by the size
// of all its graphs per run (measured: 115 MiB per LMF run on a fifth of
// MOSI; an EF-LSTM + TFN grid at MOSI size reached 14 GiB and was killed
// by the OOM killer). Without the finalizer the machine is ordinary
// garbage once nothing references it. Call Close as before when a machine
// is done; it stays a no-op.
func NewTapeMachine(g *G.ExprGraph, opts ...G.VMOpt) G.VM {
	vm := G.NewTapeMachine(g, opts...)
	runtime.SetFinalizer(vm, nil)
	return vm
}
