package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// LogSumExp returns log Σ_j exp(x_j) along axis, computed stably as
//
//	LSE(x) = m + log Σ_j exp(x_j − m),  m = max_j x_j,
//
// so that large inputs (e.g. 1000, 1001) do not overflow. The result has the
// shape of x with axis removed (a scalar for a vector x). The derivative is
// softmax(x) along axis; the gradient paths through m cancel exactly.
// (gorgonia's own G.LogSumExp is wrong in v0.9.18 and must not be used.)
func LogSumExp(x *G.Node, axis int) (*G.Node, error) {
	e, m, err := expShifted("LogSumExp", x, axis)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(e, axis)
	if err != nil {
		return nil, err
	}
	l, err := G.Log(s)
	if err != nil {
		return nil, err
	}
	return G.Add(l, m)
}

// expShifted checks x and axis and returns exp(x − m) and m, the maximum of
// x along axis: the overflow-free exponentials Softmax and LogSumExp share.
func expShifted(op string, x *G.Node, axis int) (e, m *G.Node, err error) {
	if x == nil {
		return nil, nil, fmt.Errorf("nn: %s: nil input", op)
	}
	d := x.Dims()
	if d == 0 {
		return nil, nil, fmt.Errorf("nn: %s: input is a scalar, need at least a vector", op)
	}
	if axis < 0 || axis >= d {
		return nil, nil, fmt.Errorf("nn: %s: axis %d out of range for shape %v", op, axis, x.Shape())
	}
	if m, err = G.Max(x, axis); err != nil {
		return nil, nil, fmt.Errorf("nn: %s: max: %w", op, err)
	}
	shifted, err := subAlong(x, m, axis)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: %s: %w", op, err)
	}
	if e, err = G.Exp(shifted); err != nil {
		return nil, nil, err
	}
	return e, m, nil
}

// LogMeanExp returns log((1/n) Σ_j exp(x_j)) = LogSumExp(x) − log n for a
// vector x of length n: the second term of the Donsker–Varadhan bound
// KL(P‖Q) ≥ E_P[T] − log E_Q[exp T] that MINE maximizes (Belghazi et al.
// 2018), the regularizer's optional KL bound. §2.2 of the paper names the
// Donsker–Varadhan bound but writes E_P[T] − E_Q[exp T], without the log.
func LogMeanExp(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: LogMeanExp: nil input")
	}
	if x.Dims() != 1 {
		return nil, fmt.Errorf("nn: LogMeanExp: need a vector, got shape %v", x.Shape())
	}
	lse, err := LogSumExp(x, 0)
	if err != nil {
		return nil, err
	}
	n := x.Shape()[0]
	return G.Sub(lse, scalarLike(x, math.Log(float64(n))))
}

// subAlong returns x − r where r is x reduced along axis (its shape is that
// of x without axis), broadcasting r back along axis.
func subAlong(x, r *G.Node, axis int) (*G.Node, error) {
	if r.IsScalar() {
		return G.Sub(x, r)
	}
	return G.BroadcastSub(x, r, nil, []byte{byte(axis)})
}

// divAlong returns x / r where r is x reduced along axis, broadcasting r
// back along axis.
func divAlong(x, r *G.Node, axis int) (*G.Node, error) {
	if r.IsScalar() {
		return G.HadamardDiv(x, r)
	}
	return G.BroadcastHadamardDiv(x, r, nil, []byte{byte(axis)})
}

// mulAlong returns x ⊙ r where r is x reduced along axis, broadcasting r
// back along axis.
func mulAlong(x, r *G.Node, axis int) (*G.Node, error) {
	if r.IsScalar() {
		return G.HadamardProd(x, r)
	}
	return G.BroadcastHadamardProd(x, r, nil, []byte{byte(axis)})
}

// scalarLike returns a scalar constant with the dtype of x.
func scalarLike(x *G.Node, v float64) *G.Node {
	if x.Dtype() == G.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}
