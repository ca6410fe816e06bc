package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Softmax returns exp(x − m) / Σ_j exp(x_j − m) along axis, with m the
// maximum along axis (so large inputs do not overflow); the output has the
// shape of x. gorgonia's G.SoftMax is not used: in v0.9.18 its row maximum
// starts from the tensor's first element instead of the row's (so rows far
// from x[0] overflow), and its backward pass needs the axis spelled out.
func Softmax(x *G.Node, axis int) (*G.Node, error) {
	e, _, err := expShifted("Softmax", x, axis)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(e, axis)
	if err != nil {
		return nil, err
	}
	return divAlong(e, s, axis)
}

// ScaledDotAttention returns softmax(s · Q Kᵀ) V batch by batch:
//
//	out[b] = softmax_k(scale · q[b] k[b]ᵀ) v[b]
//
// for q (B, Tq, d), k (B, Tk, d), v (B, Tk, dv); the softmax runs over the
// key axis and the result is (B, Tq, dv). The usual scale is 1/√d.
func ScaledDotAttention(g *Graph, q, k, v *G.Node, scale float64) (*G.Node, error) {
	if g == nil || q == nil || k == nil || v == nil {
		return nil, fmt.Errorf("nn: ScaledDotAttention: nil graph or input")
	}
	qs, ks, vs := q.Shape(), k.Shape(), v.Shape()
	if q.Dims() != 3 || k.Dims() != 3 || v.Dims() != 3 {
		return nil, fmt.Errorf("nn: ScaledDotAttention: q %v, k %v, v %v must be 3-D (batch, time, features)", qs, ks, vs)
	}
	switch {
	case qs[0] != ks[0] || qs[0] != vs[0]:
		return nil, fmt.Errorf("nn: ScaledDotAttention: batch sizes differ: q %v, k %v, v %v", qs, ks, vs)
	case qs[2] != ks[2]:
		return nil, fmt.Errorf("nn: ScaledDotAttention: q %v and k %v have different feature sizes", qs, ks)
	case ks[1] != vs[1]:
		return nil, fmt.Errorf("nn: ScaledDotAttention: k %v and v %v have different lengths", ks, vs)
	}
	for _, n := range []*G.Node{q, k, v} {
		if n.Dtype() != g.Dtype {
			return nil, fmt.Errorf("nn: ScaledDotAttention: input dtype %v, graph dtype %v", n.Dtype(), g.Dtype)
		}
	}
	scores, err := G.BatchedMatMul(q, k, false, true) // (B, Tq, Tk)
	if err != nil {
		return nil, fmt.Errorf("nn: ScaledDotAttention: q kᵀ: %w", err)
	}
	if scores, err = G.HadamardProd(scores, g.Scalar(scale)); err != nil {
		return nil, fmt.Errorf("nn: ScaledDotAttention: scale: %w", err)
	}
	weights, err := Softmax(scores, 2)
	if err != nil {
		return nil, err
	}
	out, err := G.BatchedMatMul(weights, v)
	if err != nil {
		return nil, fmt.Errorf("nn: ScaledDotAttention: weights · v: %w", err)
	}
	return out, nil
}
