package terms

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// PooledDonskerVaradhan adds the Donsker–Varadhan lower bound on KL(P‖Q)
// (§2.2, L_d of §4.1) to the graph as one op with a hand-written backward
// pass. t (2B, 1) holds the critic's values on the pooled sample: t_1…t_B
// on x ~ P (unimodal), t_{B+1}…t_{2B} on y ~ Q (fused). With
// u_j = t_{B+j} and μ = max_j u_j,
//
//	DV = (1/B) Σ_{j≤B} t_j − (μ + log Σ_j e^{u_j − μ} − log B)
//
// and the gradient is ∂DV/∂t_j = 1/B for j ≤ B and −softmax(u)_{j−B}
// beyond.
func PooledDonskerVaradhan(t *G.Node) (*G.Node, error) {
	s := t.Shape()
	if len(s) != 2 || s[1] != 1 || s[0] < 2 || s[0]%2 != 0 {
		return nil, fmt.Errorf("terms: Donsker–Varadhan: critic output shape %v, want (2B, 1)", s)
	}
	st := &dvState{id: opkit.NextID(), dtype: t.Dtype(), rows: s[0]}
	return G.ApplyOp(&dvOp{Base: opkit.Instance(fmt.Sprintf("DonskerVaradhan#%d", st.id)), st: st}, t)
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
	grad    opkit.Buffer
}

type dvOp struct {
	opkit.Base
	st *dvState
}

func (op *dvOp) Arity() int                                     { return 1 }
func (op *dvOp) Type() hm.Type                                  { return opkit.FnType(2, 0) }
func (op *dvOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op *dvOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	st.t = opkit.Grow(st.t, st.rows)
	if err := opkit.Float64s(st.t, vals[0], "Donsker–Varadhan critic output"); err != nil {
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
	return opkit.ScalarValue(st.dtype, dv), nil
}

func (op *dvOp) DiffWRT(int) []bool { return []bool{true} }
func (op *dvOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := opkit.Backward(fmt.Sprintf("DonskerVaradhanGrad#%d", op.st.id), grad, output, tensor.Shape{op.st.rows, 1}, op.st.backward)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dt}, nil
}

// backward returns ∂L/∂t for ∂L/∂DV = dOut: ∂DV/∂t, kept by the
// forward run, times dOut.
func (st *dvState) backward(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	g, err := opkit.Float64(dOut, "Donsker–Varadhan output gradient")
	if err != nil {
		return nil, err
	}
	st.scratch = opkit.Grow(st.scratch, st.rows)
	for i, v := range st.t {
		st.scratch[i] = g * v
	}
	return st.grad.Write(st.dtype, tensor.Shape{st.rows, 1}, st.scratch), nil
}
