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
// that MINE maximizes (Belghazi et al. 2018) to the graph as one op with a
// hand-written backward pass. t (2B, 1) holds the critic's values on the
// pooled sample: t_1…t_B on x ~ P (unimodal), t_{B+1}…t_{2B} on y ~ Q
// (fused). With u_j = t_{B+j} and μ = max_j u_j,
//
//	DV = (1/B) Σ_{j≤B} t_j − (μ + log Σ_j e^{u_j − μ} − log B)
//
// and the gradient is ∂DV/∂t_j = 1/B for j ≤ B and −softmax(u)_{j−B}
// beyond.
func PooledDonskerVaradhan(t *G.Node) (*G.Node, error) {
	return pooledKLBound(t, false)
}

// PooledPaperKLBound adds the lower bound on KL(P‖Q) that §2.2 of the paper
// writes, E_P[T] − E_Q[exp T], to the graph as one op with a hand-written
// backward pass; t is laid out as for PooledDonskerVaradhan:
//
//	bound = (1/B) Σ_{j≤B} t_j − (1/B) Σ_j e^{u_j},   u_j = t_{B+j},
//
// with ∂/∂t_j = 1/B for j ≤ B and −e^{u_{j−B}}/B beyond. It is the
// Nguyen–Wainwright–Jordan bound E_P[T'] − E_Q[e^{T'−1}] of T' = T + 1,
// minus one, so it lower-bounds KL(P‖Q) − 1 (equality at T = log dP/dQ − 1)
// and never exceeds the Donsker–Varadhan value minus one.
func PooledPaperKLBound(t *G.Node) (*G.Node, error) {
	return pooledKLBound(t, true)
}

// pooledKLBound adds the Donsker–Varadhan op, or with paper the op of
// §2.2's bound.
func pooledKLBound(t *G.Node, paper bool) (*G.Node, error) {
	s := t.Shape()
	if len(s) != 2 || s[1] != 1 || s[0] < 2 || s[0]%2 != 0 {
		return nil, fmt.Errorf("terms: KL bound: critic output shape %v, want (2B, 1)", s)
	}
	st := &dvState{id: opkit.NextID(), dtype: t.Dtype(), rows: s[0], paper: paper}
	return G.ApplyOp(&dvOp{Base: opkit.Instance(fmt.Sprintf("%s#%d", st.name(), st.id)), st: st}, t)
}

// dvState holds the critic values and the derivative of one KL-bound op,
// shared by its forward and backward op.
type dvState struct {
	id    uint64
	dtype tensor.Dtype
	rows  int  // 2B
	paper bool // §2.2's bound instead of Donsker–Varadhan's

	t       []float64 // critic values, then ∂bound/∂t after the forward pass
	ran     bool
	scratch []float64
	grad    opkit.Buffer
}

// name names the op's family.
func (st *dvState) name() string {
	if st.paper {
		return "PaperKLBound"
	}
	return "DonskerVaradhan"
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
	if err := opkit.Float64s(st.t, vals[0], "KL-bound critic output"); err != nil {
		return nil, err
	}
	B := st.rows / 2
	x, y := st.t[:B], st.t[B:]
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(B)
	var bound float64
	if st.paper {
		sum := 0.0
		for _, v := range y {
			sum += math.Exp(v)
		}
		bound = mean - sum/float64(B)
		// Keep the derivative: 1/B on x, −e^y/B on y.
		for j, v := range y {
			y[j] = -math.Exp(v) / float64(B)
		}
	} else {
		mu := math.Inf(-1)
		for _, v := range y {
			mu = math.Max(mu, v)
		}
		sum := 0.0
		for _, v := range y {
			sum += math.Exp(v - mu)
		}
		bound = mean - (mu + math.Log(sum) - math.Log(float64(B)))
		// Keep the derivative: −softmax(y) on y.
		for j, v := range y {
			y[j] = -math.Exp(v-mu) / sum
		}
	}
	for j := range x {
		x[j] = 1 / float64(B)
	}
	st.ran = true
	return opkit.ScalarValue(st.dtype, bound), nil
}

func (op *dvOp) DiffWRT(int) []bool { return []bool{true} }
func (op *dvOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := opkit.Backward(fmt.Sprintf("%sGrad#%d", op.st.name(), op.st.id), grad, output, tensor.Shape{op.st.rows, 1}, op.st.backward)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dt}, nil
}

// backward returns ∂L/∂t for ∂L/∂bound = dOut: ∂bound/∂t, kept by the
// forward run, times dOut.
func (st *dvState) backward(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	g, err := opkit.Float64(dOut, "KL-bound output gradient")
	if err != nil {
		return nil, err
	}
	st.scratch = opkit.Grow(st.scratch, st.rows)
	for i, v := range st.t {
		st.scratch[i] = g * v
	}
	return st.grad.Write(st.dtype, tensor.Shape{st.rows, 1}, st.scratch), nil
}
