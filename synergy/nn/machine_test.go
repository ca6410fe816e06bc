package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/chewxy/hm"
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

// saltOp is y = x, whose hash includes a salt: two saltOp nodes get equal
// hashes for a suitable pair of salts (collidingSalts).
type saltOp struct {
	salt  uint32
	shape tensor.Shape
}

func (op saltOp) Arity() int { return 1 }
func (op saltOp) Type() hm.Type {
	a := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	return hm.NewFnType(a, a)
}
func (op saltOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op saltOp) Do(v ...G.Value) (G.Value, error) {
	return v[0].(*tensor.Dense).Clone().(*tensor.Dense), nil
}
func (op saltOp) ReturnsPtr() bool      { return false }
func (op saltOp) CallsExtern() bool     { return false }
func (op saltOp) OverwritesInput() int  { return -1 }
func (op saltOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "saltOp%d%v", op.salt, op.shape) }
func (op saltOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op saltOp) String() string { return fmt.Sprintf("Salt%d", op.salt) }

// saltNodeHash is gorgonia's Node.Hashcode of saltOp(op) applied to one
// child: FNV-32a of the node's type and shape, the op's hash text, the
// number of children and the child's hash (node.go, WriteHash).
func saltNodeHash(typeAndShape string, op saltOp, child uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(typeAndShape))
	op.WriteHash(h)
	h.Write([]byte{1})
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], child)
	h.Write(b[:])
	return h.Sum32()
}

// collidingSalts finds salts for which saltOp over x and saltOp over y have
// the same node hash (a birthday search: 2¹⁶ salts of x, then salts of y).
func collidingSalts(t *testing.T, g *G.ExprGraph, x, y *G.Node) (sx, sy uint32) {
	t.Helper()
	probe := func(n *G.Node) string {
		p := G.Must(G.ApplyOp(saltOp{0, n.Shape()}, n))
		return fmt.Sprintf("%v%v", p.Type(), p.Shape())
	}
	px, py := probe(x), probe(y)
	seen := make(map[uint32]uint32, 1<<16)
	for s := uint32(1); s <= 1<<16; s++ {
		seen[saltNodeHash(px, saltOp{s, x.Shape()}, x.Hashcode())] = s
	}
	for s := uint32(1); s < 1<<26; s++ {
		if sx, ok := seen[saltNodeHash(py, saltOp{s, y.Shape()}, y.Hashcode())]; ok {
			return sx, s
		}
	}
	t.Fatal("no colliding salts found")
	return 0, 0
}

func letZeros(t *testing.T, n *G.Node, v float64) {
	t.Helper()
	data := make([]float64, n.Shape().TotalSize())
	for i := range data {
		data[i] = v
	}
	if err := G.Let(n, tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(data))); err != nil {
		t.Fatal(err)
	}
}

// collisionGraph builds y = c + B(b) next to an unrelated A(a), where the
// nodes A and B have different expressions but the same gorgonia hash, as
// a training graph's nodes do by chance with probability ~N²/2³³.
func collisionGraph(t *testing.T, aShape, bShape tensor.Shape) (g *G.ExprGraph, na, nb, sum *G.Node, read *G.Value) {
	t.Helper()
	g = G.NewGraph()
	input := func(name string, s tensor.Shape) *G.Node {
		return G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName(name))
	}
	a, b, c := input("a", aShape), input("b", bShape), input("c", bShape)
	sa, sb := collidingSalts(t, g, a, b)
	na = G.Must(G.ApplyOp(saltOp{sa, aShape}, a))
	nb = G.Must(G.ApplyOp(saltOp{sb, bShape}, b))
	if na.Hashcode() != nb.Hashcode() {
		t.Fatalf("salts %d, %d give hashes %08x and %08x", sa, sb, na.Hashcode(), nb.Hashcode())
	}
	sum = G.Must(G.Add(c, nb))
	read = new(G.Value)
	G.Read(sum, read)
	var keepA G.Value
	G.Read(na, &keepA)
	letZeros(t, a, 7)
	letZeros(t, b, 1)
	letZeros(t, c, 2)
	return g, na, nb, sum, read
}

// TestGorgoniaMergesCollidingNodes reproduces the sporadic first-step
// failure "Add failed: Shape mismatch. Expected (8). Got (32, 128)": when a
// (8) node and a (32, 128) node of a graph have the same 32-bit hash,
// gorgonia's compiler replaces the later by the earlier, and with equal
// shapes it silently computes with the wrong value. CompileTapeMachine
// refuses both graphs with a HashCollisionError naming the two nodes.
func TestGorgoniaMergesCollidingNodes(t *testing.T) {
	g, na, nb, _, _ := collisionGraph(t, tensor.Shape{8}, tensor.Shape{32, 128})
	err := G.NewTapeMachine(g).RunAll()
	if err == nil || !strings.Contains(err.Error(), "Add failed: Shape mismatch. Expected (8). Got (32, 128)") {
		t.Fatalf("gorgonia's machine: error %v, want the shape mismatch of the merged nodes", err)
	}
	_, err = CompileTapeMachine(g)
	var hc *HashCollisionError
	if !errors.As(err, &hc) || hc.First != na || hc.Then != nb || !strings.Contains(err.Error(), fmt.Sprintf("%08x", na.Hashcode())) {
		t.Fatalf("CompileTapeMachine: error %v, want a HashCollisionError for %v and %v", err, na, nb)
	}

	// Equal shapes: no error from gorgonia, but c + B(b) = 2 + 7 instead of 2 + 1.
	g, _, _, _, read := collisionGraph(t, tensor.Shape{4, 3}, tensor.Shape{4, 3})
	if err := G.NewTapeMachine(g).RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := (*read).Data().([]float64)[0]; got != 9 {
		t.Fatalf("gorgonia computed c + B(b) = %v; the test expects the merged value 2 + 7 = 9", got)
	}
	if _, err := CompileTapeMachine(g); !errors.As(err, &hc) {
		t.Fatalf("CompileTapeMachine on equal shapes: error %v, want a HashCollisionError", err)
	}
}

// TestCompileTapeMachineAcceptsSharedExpressions checks that the hash check
// accepts what value numbering is meant to merge, and compiles and runs an
// ordinary graph: c + B(b) = 3.
func TestCompileTapeMachineAcceptsSharedExpressions(t *testing.T) {
	g := G.NewGraph()
	b := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("b"))
	c := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("c"))
	nb := G.Must(G.ApplyOp(saltOp{1, tensor.Shape{2, 2}}, b))
	sum := G.Must(G.Add(c, nb))
	var out G.Value
	G.Read(sum, &out)
	letZeros(t, b, 1)
	letZeros(t, c, 2)
	vm, err := CompileTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := out.Data().([]float64); got[3] != 3 {
		t.Fatalf("c + B(b) = %v, want 3s", got)
	}
	if _, err := CompileTapeMachine(G.NewGraph()); err == nil || !strings.Contains(err.Error(), "nn: compiling the graph") {
		t.Errorf("empty graph: error %v, want gorgonia's compile panic as an error", err)
	}
}

// stressStep builds a small training graph (LSTM, dropout, fused Linear,
// gorgonia's own ops), compiles it with NewTapeMachine, runs one step and
// returns the cost and every gradient entry.
func stressStep(t *testing.T) []float64 {
	ps := NewParamSet(tensor.Float32)
	rnn := NewLSTM(ps, "lstm", 3, 16, rand.New(rand.NewPCG(1, 2)))
	lin := NewLinear(ps, "lin", 16, 4, true, rand.New(rand.NewPCG(3, 4)))
	g := NewGraph(tensor.Float32, true)
	x, mask := g.Input("x", 16, 5, 3), g.Input("mask", 16, 5)
	h, err := rnn.Forward(g, x, mask)
	if err != nil {
		t.Error(err)
		return nil
	}
	d, err := g.Dropout(h.Last, 0.3)
	if err != nil {
		t.Error(err)
		return nil
	}
	y, err := lin.Forward(g, d)
	if err != nil {
		t.Error(err)
		return nil
	}
	cost := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sigmoid(y))))))
	var costRead G.Value
	G.Read(cost, &costRead)
	nodes := g.ParamNodes(ps.Params())
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Error(err)
		return nil
	}
	vm := NewTapeMachine(g.G, G.BindDualValues(nodes...))
	xs, ms := make([]float32, 16*5*3), make([]float32, 16*5)
	for i := range xs {
		xs[i] = float32(i%7) / 7
	}
	for i := range ms {
		ms[i] = 1
	}
	if err := G.Let(x, tensor.New(tensor.WithShape(16, 5, 3), tensor.WithBacking(xs))); err != nil {
		t.Error(err)
		return nil
	}
	if err := G.Let(mask, tensor.New(tensor.WithShape(16, 5), tensor.WithBacking(ms))); err != nil {
		t.Error(err)
		return nil
	}
	if err := g.SampleMasks(rand.New(rand.NewPCG(5, 6))); err != nil {
		t.Error(err)
		return nil
	}
	if err := vm.RunAll(); err != nil {
		t.Error(err)
		return nil
	}
	out := []float64{float64(costRead.Data().(float32))}
	grads, err := g.Grads(ps.Params())
	if err != nil {
		t.Error(err)
		return nil
	}
	for _, d := range grads {
		for _, v := range d.Float32s() {
			out = append(out, float64(v))
		}
	}
	return out
}

// TestGraphsInSequenceAndConcurrently builds, compiles and runs the same
// training step many times, one after another with collections in between
// (as a grid process does) and on several goroutines at once, with
// gorgonia's and tensor's global pools shared by all: every build must give
// the first one's cost and gradients bit for bit (run under -race to check
// the pools and ops for data races as well).
func TestGraphsInSequenceAndConcurrently(t *testing.T) {
	want := stressStep(t)
	same := func(got []float64) bool { return slices.Equal(got, want) }
	for i := 0; i < 5; i++ {
		runtime.GC()
		if got := stressStep(t); !same(got) {
			t.Fatalf("sequential build %d differs from the first", i+1)
		}
	}
	var wg sync.WaitGroup
	var differ atomic.Int32
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < 3; i++ {
				if !same(stressStep(t)) {
					differ.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := differ.Load(); n > 0 {
		t.Fatalf("%d of 12 concurrent builds differ from the sequential one", n)
	}
}
