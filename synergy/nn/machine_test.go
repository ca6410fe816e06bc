package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"weak"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// machineGraph builds a small trainable graph, runs it once on a machine
// made by newVM and returns a weak pointer to its expression graph.
func machineGraph(t *testing.T, newVM func(*G.ExprGraph, ...G.VMOpt) G.VM) weak.Pointer[G.ExprGraph] {
	t.Helper()
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "lin", 4, 3, true, rand.New(rand.NewPCG(1, 2)))
	g := NewGraph(tensor.Float64, true)
	x := g.Input("x", 2, 4)
	y, err := lin.Forward(g, x)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Mean(G.Must(G.Square(y))))
	nodes := g.ParamNodes(ps.Params())
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	// The usual pattern: a struct that keeps the machine and the copies
	// G.Read makes of outputs. The read op points into the struct, the
	// struct to the machine, the machine to the op: a reference cycle.
	h := &struct {
		vm  G.VM
		out G.Value
	}{}
	G.Read(y, &h.out)
	h.vm = newVM(g.G, G.BindDualValues(nodes...))
	vm := h.vm
	if err := G.Let(x, tensor.New(tensor.WithShape(2, 4), tensor.WithBacking(make([]float64, 8)))); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vm.Reset()
	if err := vm.Close(); err != nil {
		t.Fatal(err)
	}
	return weak.Make(g.G)
}

func collected(p weak.Pointer[G.ExprGraph]) bool {
	for i := 0; i < 5; i++ {
		runtime.GC()
		if p.Value() == nil {
			return true
		}
	}
	return false
}

// TestNewTapeMachineIsCollected checks that a graph in a reference cycle
// with its machine is freed once unreferenced when the machine comes from
// NewTapeMachine, while with gorgonia's own constructor it stays alive (the
// leak NewTapeMachine works around; the second half proves the test builds
// the cycle).
func TestNewTapeMachineIsCollected(t *testing.T) {
	if !collected(machineGraph(t, NewTapeMachine)) {
		t.Fatal("a graph run on nn.NewTapeMachine was not garbage collected")
	}
	gorgonias := func(g *G.ExprGraph, opts ...G.VMOpt) G.VM { return G.NewTapeMachine(g, opts...) }
	if collected(machineGraph(t, gorgonias)) {
		t.Fatal("the graph on G.NewTapeMachine was collected too: either the test no longer builds the cycle, or the pinned gorgonia changed and nn.NewTapeMachine can go")
	}
}
