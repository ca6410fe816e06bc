package models

import (
	"fmt"
	"math"
	"slices"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// magEpsilon is the ε of MAG's scaling factor (modeling.py: eps = 1e-6).
const magEpsilon = 1e-6

// magAlpha returns, per row of t and h (N, H), MAG's scaling factor
//
//	α = min(β_shift · ‖t‖₂ / (‖h‖₂ + ε), 1),
//
// with ‖h‖ = 0 replaced by 1 as in the original (torch.where(hm_norm == 0,
// 1, hm_norm)), so that a zero shift gives a finite, zero-gradient α. The
// result is (N). A custom op because the norm's gradient at 0 and the
// replacement need explicit handling.
func magAlpha(t, h *G.Node, beta float64) (*G.Node, error) {
	if t.Dims() != 2 || !slices.Equal(t.Shape(), h.Shape()) {
		return nil, fmt.Errorf("models: MAG α: t %v and h %v must be equal (N, H) matrices", t.Shape(), h.Shape())
	}
	return G.ApplyOp(&magAlphaOp{Base: opkit.Owned(fmt.Sprintf("models.MAGAlpha(β=%v)", beta)), beta: beta}, t, h)
}

// magAlphaRow computes α and the partial derivatives' common factors for
// one row, in float64: alpha, and whether the min is active (α < 1), ‖t‖,
// ‖h‖ (before the zero replacement) and the denominator ‖h‖' + ε.
func magAlphaRow[T float32 | float64](t, h []T, beta float64) (alpha float64, active bool, nt, nh, den float64) {
	for _, v := range t {
		x := float64(v)
		nt += x * x
	}
	for _, v := range h {
		x := float64(v)
		nh += x * x
	}
	nt, nh = math.Sqrt(nt), math.Sqrt(nh)
	hn := nh
	if hn == 0 {
		hn = 1
	}
	den = hn + magEpsilon
	thr := nt / den * beta
	if thr < 1 {
		return thr, true, nt, nh, den
	}
	return 1, false, nt, nh, den
}

// magAlphaOp computes α into a buffer it owns (float64 arithmetic, the
// result in the graph's dtype).
type magAlphaOp struct {
	opkit.Base
	beta float64
	out  *tensor.Dense
}

func (op *magAlphaOp) Arity() int    { return 2 }
func (op *magAlphaOp) Type() hm.Type { return opkit.FnType(2, 2, 1) }
func (op *magAlphaOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("models: %v: input shape %v, want (N, H)", op, in[0])
	}
	return tensor.Shape{s[0]}, nil
}

func (op *magAlphaOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 2); err != nil {
		return nil, err
	}
	dt, shape := in[0].Dtype(), in[0].Shape()
	if len(shape) != 2 {
		return nil, op.Errorf("input shape %v, want (N, H)", shape)
	}
	t, err := opkit.Data(in[0], dt, shape, op.String()+" t")
	if err != nil {
		return nil, err
	}
	h, err := opkit.Data(in[1], dt, shape, op.String()+" h")
	if err != nil {
		return nil, err
	}
	n, d := shape[0], shape[1]
	op.out = ownedBuffer(op.out, dt, n)
	switch out := op.out.Data().(type) {
	case []float32:
		magAlphaRows(out, t.([]float32), h.([]float32), d, op.beta)
	case []float64:
		magAlphaRows(out, t.([]float64), h.([]float64), d, op.beta)
	default:
		return nil, op.Errorf("unsupported dtype %v", dt)
	}
	return op.out, nil
}

// magAlphaRows writes α of each row of t and h (rows of d) into out, rows
// in chunks on GOMAXPROCS goroutines.
func magAlphaRows[T float32 | float64](out, t, h []T, d int, beta float64) {
	parallel.Rows(len(out), d, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			a, _, _, _, _ := magAlphaRow(t[i*d:(i+1)*d], h[i*d:(i+1)*d], beta)
			out[i] = T(a)
		}
	})
}

func (op *magAlphaOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *magAlphaOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := G.ApplyOp(newMAGAlphaGradOp(op.beta, 0), inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dh, err := G.ApplyOp(newMAGAlphaGradOp(op.beta, 1), inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dt, dh}, nil
}

// magAlphaGradOp(t, h, g) is g_i · ∂α_i/∂t_i (wrt 0) or g_i · ∂α_i/∂h_i
// (wrt 1): where α < 1,
//
//	∂α/∂t = β t / (‖t‖ (‖h‖ + ε)),   ∂α/∂h = −β ‖t‖ h / (‖h‖ (‖h‖ + ε)²),
//
// and 0 where α = 1, ‖t‖ = 0 (for t) or ‖h‖ = 0 (for h); into a buffer it
// owns (float64 arithmetic, the result in the graph's dtype).
type magAlphaGradOp struct {
	opkit.Base
	beta float64
	wrt  int
	out  *tensor.Dense
}

func newMAGAlphaGradOp(beta float64, wrt int) *magAlphaGradOp {
	return &magAlphaGradOp{Base: opkit.Owned(fmt.Sprintf("models.MAGAlphaGrad(β=%v, wrt=%d)", beta, wrt)), beta: beta, wrt: wrt}
}

func (op *magAlphaGradOp) Arity() int    { return 3 }
func (op *magAlphaGradOp) Type() hm.Type { return opkit.FnType(2, 2, 1, 2) }
func (op *magAlphaGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("models: %v: input shape %v, want (N, H)", op, in[0])
	}
	return s.Clone(), nil
}

func (op *magAlphaGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 3); err != nil {
		return nil, err
	}
	dt, shape := in[0].Dtype(), in[0].Shape()
	if len(shape) != 2 {
		return nil, op.Errorf("input shape %v, want (N, H)", shape)
	}
	t, err := opkit.Data(in[0], dt, shape, op.String()+" t")
	if err != nil {
		return nil, err
	}
	h, err := opkit.Data(in[1], dt, shape, op.String()+" h")
	if err != nil {
		return nil, err
	}
	g, err := opkit.Data(in[2], dt, tensor.Shape{shape[0]}, op.String()+" output gradient")
	if err != nil {
		return nil, err
	}
	op.out = ownedBuffer(op.out, dt, shape...)
	switch out := op.out.Data().(type) {
	case []float32:
		magAlphaGradRows(out, t.([]float32), h.([]float32), g.([]float32), shape[1], op.beta, op.wrt)
	case []float64:
		magAlphaGradRows(out, t.([]float64), h.([]float64), g.([]float64), shape[1], op.beta, op.wrt)
	default:
		return nil, op.Errorf("unsupported dtype %v", dt)
	}
	return op.out, nil
}

// magAlphaGradRows writes magAlphaGradOp's rows (of d entries) into out,
// in chunks of rows on GOMAXPROCS goroutines.
func magAlphaGradRows[T float32 | float64](out, t, h, g []T, d int, beta float64, wrt int) {
	parallel.Rows(len(g), d, func(r0, r1 int) { // rows are independent
		for i := r0; i < r1; i++ {
			ti, hi, o := t[i*d:(i+1)*d], h[i*d:(i+1)*d], out[i*d:(i+1)*d]
			_, active, nt, nh, den := magAlphaRow(ti, hi, beta)
			switch {
			case active && wrt == 0 && nt > 0:
				c := float64(g[i]) * beta / (nt * den)
				for j, v := range ti {
					o[j] = T(c * float64(v))
				}
			case active && wrt == 1 && nh > 0:
				c := -float64(g[i]) * beta * nt / (nh * den * den)
				for j, v := range hi {
					o[j] = T(c * float64(v))
				}
			default:
				clear(o)
			}
		}
	})
}

func (op *magAlphaGradOp) DiffWRT(int) []bool { return []bool{false, false, false} }
func (op *magAlphaGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("models: second derivative of MAG's α is not implemented")
}

// ownedBuffer returns buf when it is a tensor of dtype dt and the given
// shape, else a new one: the output buffer an owned op reuses.
func ownedBuffer(buf *tensor.Dense, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if buf != nil && buf.Dtype() == dt && buf.Shape().Eq(tensor.Shape(shape)) {
		return buf
	}
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

// magRows returns the values of the inputs as float64 slices.
func magRows(op fmt.Stringer, in []G.Value) ([][]float64, error) {
	out := make([][]float64, len(in))
	for k, v := range in {
		var err error
		if out[k], err = opkit.Float64View(v, op.String()+" input"); err != nil {
			return nil, err
		}
	}
	return out, nil
}
