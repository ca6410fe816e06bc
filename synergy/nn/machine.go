package nn

import (
	"fmt"
	"runtime"

	G "gorgonia.org/gorgonia"
)

// NewTapeMachine returns gorgonia's tape machine for g, like
// G.NewTapeMachine, without the finalizer gorgonia v0.9.18 attaches to it,
// after the hash check of CompileTapeMachine. It panics where
// G.NewTapeMachine panics and on a HashCollisionError; use
// CompileTapeMachine to get those as errors.
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
	vm, err := CompileTapeMachine(g, opts...)
	if err != nil {
		panic(err)
	}
	return vm
}

// CompileTapeMachine is NewTapeMachine returning an error instead of
// panicking: a HashCollisionError when gorgonia's compiler would merge two
// different nodes of g, or the compiler's own error. The machine's engine
// is addEngine (gorgonia's, with large sums in parallel chunks) unless opts
// set another.
//
// gorgonia v0.9.18 numbers values by node hash when it compiles (dataflow.vn
// in its analysis.go): a node whose 32-bit Hashcode equals an earlier node's
// is replaced by that node, and the two are never compared. Two different
// nodes whose hashes collide are silently merged: every consumer of the
// later one reads the earlier one's value. With different shapes the run
// fails at its first step with an error such as "Add failed: Shape mismatch.
// Expected (8). Got (32, 128)"; with equal shapes it computes wrong values
// without any error. Node hashes include our ops' process-wide ids and the
// addresses G.Read writes to, so whether a build collides changes from one
// build to the next, even in one process: a graph of N nodes collides with
// probability about N²/2³³ (7e-5 for the training graphs of the fast
// models at batch 32, 1e-3 for MISA's 2,932 nodes). A new build of the same
// model draws new ids and addresses and compiles correctly.
func CompileTapeMachine(g *G.ExprGraph, opts ...G.VMOpt) (vm G.VM, err error) {
	if err := checkHashes(g); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			vm, err = nil, fmt.Errorf("nn: compiling the graph: %v", p)
		}
	}()
	m := G.NewTapeMachine(g, append([]G.VMOpt{G.WithEngine(addEngine{})}, opts...)...)
	runtime.SetFinalizer(m, nil)
	return m, nil
}

// HashCollisionError reports two different nodes of a graph with the same
// gorgonia hash, which gorgonia's compiler would merge into one (see
// CompileTapeMachine).
type HashCollisionError struct {
	Hash        uint32
	First, Then *G.Node
}

func (e *HashCollisionError) Error() string {
	return fmt.Sprintf("nn: gorgonia would compile this graph wrongly: nodes %s (shape %v) and %s (shape %v) have the same 32-bit hash %08x, "+
		"and gorgonia v0.9.18's compiler treats nodes of equal hash as one value without comparing them; "+
		"a new build of the graph draws new op ids and hashes", describeNode(e.First), e.First.Shape(), describeNode(e.Then), e.Then.Shape(), e.Hash)
}

// describeNode names n: "input <name>", or "<op>(%<child ids>)" for an op
// node without a name of its own.
func describeNode(n *G.Node) string {
	if n.Op() == nil {
		return fmt.Sprintf("input %q", n.Name())
	}
	return fmt.Sprintf("%q", n.Name())
}

// checkHashes returns a HashCollisionError for the first two nodes of g that
// have the same Hashcode but are not the same expression (sameExpression).
func checkHashes(g *G.ExprGraph) error {
	byHash := make(map[uint32]*G.Node, len(g.AllNodes()))
	for _, n := range g.AllNodes() {
		h := n.Hashcode()
		if first, ok := byHash[h]; ok && first != n && !sameExpression(g, first, n) {
			return &HashCollisionError{Hash: h, First: first, Then: n}
		}
		byHash[h] = n
	}
	return nil
}

// sameExpression reports whether a and b compute the same value: inputs of
// the same name, or the same op (by hash) of the same type and shape applied
// to the same children. Merging such nodes is what gorgonia's value
// numbering is for.
func sameExpression(g *G.ExprGraph, a, b *G.Node) bool {
	if (a.Op() == nil) != (b.Op() == nil) {
		return false
	}
	if a.Op() == nil {
		return a.Name() == b.Name()
	}
	if a.Op().Hashcode() != b.Op().Hashcode() || fmt.Sprint(a.Type()) != fmt.Sprint(b.Type()) || !a.Shape().Eq(b.Shape()) {
		return false
	}
	ca, cb := g.From(a.ID()), g.From(b.ID())
	if ca.Len() != cb.Len() {
		return false
	}
	for ca.Next() && cb.Next() {
		if ca.Node() != cb.Node() {
			return false
		}
	}
	return true
}
