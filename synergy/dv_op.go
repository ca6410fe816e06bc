package synergy

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pooledDonskerVaradhan adds the Donsker–Varadhan lower bound on KL(P‖Q)
// (§2.2, L_d of §4.1) to the graph as one op with a hand-written backward
// pass. t (2B, 1) holds the critic's values on the pooled sample: t_1…t_B
// on x ~ P (unimodal), t_{B+1}…t_{2B} on y ~ Q (fused). With
// u_j = t_{B+j} and μ = max_j u_j,
//
//	DV = (1/B) Σ_{j≤B} t_j − (μ + log Σ_j e^{u_j − μ} − log B)
//
// and the gradient is ∂DV/∂t_j = 1/B for j ≤ B and −softmax(u)_{j−B}
// beyond.
func pooledDonskerVaradhan(t *G.Node) (*G.Node, error) {
	s := t.Shape()
	if len(s) != 2 || s[1] != 1 || s[0] < 2 || s[0]%2 != 0 {
		return nil, fmt.Errorf("synergy: Donsker–Varadhan: critic output shape %v, want (2B, 1)", s)
	}
	st := &dvState{id: fusedOpCounter.Add(1), dtype: t.Dtype(), rows: s[0]}
	return G.ApplyOp(&dvOp{st: st}, t)
}

// dvState holds the critic values and the softmax of one Donsker–Varadhan
// op, shared by its forward and backward op.
type dvState struct {
	id    uint64
	dtype tensor.Dtype
	rows  int // 2B

	t       []float64 // critic values, then ∂DV/∂t after the forward pass
	ran     bool
	scratch []float64
	grad    outputBuffer
}

type dvOp struct{ st *dvState }

func (op *dvOp) Arity() int                                     { return 1 }
func (op *dvOp) Type() hm.Type                                  { return hm.NewFnType(matrixType(), scalarType()) }
func (op *dvOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op *dvOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 1 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 1", op, len(vals))
	}
	st.t = grow(st.t, st.rows)
	if err := readFloat64s(st.t, vals[0], "Donsker–Varadhan critic output"); err != nil {
		return nil, err
	}
	B := st.rows / 2
	x, y := st.t[:B], st.t[B:]
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(B)
	mu := math.Inf(-1)
	for _, v := range y {
		mu = math.Max(mu, v)
	}
	sum := 0.0
	for _, v := range y {
		sum += math.Exp(v - mu)
	}
	dv := mean - (mu + math.Log(sum) - math.Log(float64(B)))
	// Keep the derivative: 1/B on x, −softmax(y) on y.
	for j := range x {
		x[j] = 1 / float64(B)
	}
	for j, v := range y {
		y[j] = -math.Exp(v-mu) / sum
	}
	st.ran = true
	return scalarValue(st.dtype, dv), nil
}

func (op *dvOp) ReturnsPtr() bool     { return false }
func (op *dvOp) CallsExtern() bool    { return false }
func (op *dvOp) OverwritesInput() int { return -1 }
func (op *dvOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.dv#%d(%v,%d)", op.st.id, op.st.dtype, op.st.rows)
}
func (op *dvOp) Hashcode() uint32   { return fusedHash(op.WriteHash) }
func (op *dvOp) String() string     { return fmt.Sprintf("DonskerVaradhan#%d", op.st.id) }
func (op *dvOp) DiffWRT(int) []bool { return []bool{true} }
func (op *dvOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := G.ApplyOp(&dvGradOp{st: op.st}, grad, output)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dt}, nil
}

// dvGradOp computes ∂L/∂t from (∂L/∂DV, DV); DV is an input only to order
// it after the forward pass, the derivative comes from the shared state.
type dvGradOp struct{ st *dvState }

func (op *dvGradOp) Arity() int { return 2 }
func (op *dvGradOp) Type() hm.Type {
	return hm.NewFnType(scalarType(), scalarType(), matrixType())
}
func (op *dvGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, 1}, nil
}

func (op *dvGradOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 2 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 2", op, len(vals))
	}
	if !st.ran {
		return nil, fmt.Errorf("synergy: %v: run before its forward pass", op)
	}
	g, err := scalarFloat64(vals[0], "Donsker–Varadhan output gradient")
	if err != nil {
		return nil, err
	}
	st.scratch = grow(st.scratch, st.rows)
	for i, v := range st.t {
		st.scratch[i] = g * v
	}
	return st.grad.write(st.dtype, tensor.Shape{st.rows, 1}, st.scratch), nil
}

func (op *dvGradOp) ReturnsPtr() bool     { return true }
func (op *dvGradOp) CallsExtern() bool    { return false }
func (op *dvGradOp) OverwritesInput() int { return -1 }
func (op *dvGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.dv.grad#%d(%v,%d)", op.st.id, op.st.dtype, op.st.rows)
}
func (op *dvGradOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *dvGradOp) String() string   { return fmt.Sprintf("DonskerVaradhanGrad#%d", op.st.id) }
