package models

import (
	"fmt"
	"math"
	"slices"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
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
// replacement need explicit handling. keep, if not nil, is a node of N
// entries read when the op runs (MAGBERT.gate's): α and its gradients are
// computed on the rows i with keep[i] ≠ 0 only and are 0 on the others.
func magAlpha(t, h, keep *G.Node, beta float64) (*G.Node, error) {
	if t.Dims() != 2 || !slices.Equal(t.Shape(), h.Shape()) {
		return nil, fmt.Errorf("models: MAG α: t %v and h %v must be equal (N, H) matrices", t.Shape(), h.Shape())
	}
	if keep != nil && keep.Shape().TotalSize() != t.Shape()[0] {
		return nil, fmt.Errorf("models: MAG α: row selection %v for %d rows", keep.Shape(), t.Shape()[0])
	}
	return G.ApplyOp(&magAlphaOp{Base: opkit.Owned(fmt.Sprintf("models.MAGAlpha(β=%v)", beta)), beta: beta, keep: keep}, t, h)
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
	keep *G.Node // nil: every row
	sel  nn.RowSelection
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
	if _, err := op.sel.Read(op.keep, n, op.String()); err != nil {
		return nil, err
	}
	switch out := op.out.Data().(type) {
	case []float32:
		magAlphaRows(out, t.([]float32), h.([]float32), d, op.beta, &op.sel)
	case []float64:
		magAlphaRows(out, t.([]float64), h.([]float64), d, op.beta, &op.sel)
	default:
		return nil, op.Errorf("unsupported dtype %v", dt)
	}
	return op.out, nil
}

// magAlphaRows writes α of each row sel keeps of t and h (rows of d) into
// out and 0 for the others, rows in chunks on GOMAXPROCS goroutines.
func magAlphaRows[T float32 | float64](out, t, h []T, d int, beta float64, sel *nn.RowSelection) {
	sel.VisitRows(len(out), d, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			a, _, _, _, _ := magAlphaRow(t[i*d:(i+1)*d], h[i*d:(i+1)*d], beta)
			out[i] = T(a)
		}
	}, func(r0, r1 int) { clear(out[r0:r1]) })
}

func (op *magAlphaOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *magAlphaOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := G.ApplyOp(newMAGAlphaGradOp(op.beta, 0, op.keep), inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dh, err := G.ApplyOp(newMAGAlphaGradOp(op.beta, 1, op.keep), inputs[0], inputs[1], grad)
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
// and 0 where α = 1, ‖t‖ = 0 (for t) or ‖h‖ = 0 (for h) or on a row keep
// leaves out; into a buffer it owns (float64 arithmetic, the result in the
// graph's dtype).
type magAlphaGradOp struct {
	opkit.Base
	beta float64
	wrt  int
	out  *tensor.Dense
	keep *G.Node // nil: every row
	sel  nn.RowSelection
}

func newMAGAlphaGradOp(beta float64, wrt int, keep *G.Node) *magAlphaGradOp {
	return &magAlphaGradOp{Base: opkit.Owned(fmt.Sprintf("models.MAGAlphaGrad(β=%v, wrt=%d)", beta, wrt)), beta: beta, wrt: wrt, keep: keep}
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
	if _, err := op.sel.Read(op.keep, shape[0], op.String()); err != nil {
		return nil, err
	}
	switch out := op.out.Data().(type) {
	case []float32:
		magAlphaGradRows(out, t.([]float32), h.([]float32), g.([]float32), shape[1], op.beta, op.wrt, &op.sel)
	case []float64:
		magAlphaGradRows(out, t.([]float64), h.([]float64), g.([]float64), shape[1], op.beta, op.wrt, &op.sel)
	default:
		return nil, op.Errorf("unsupported dtype %v", dt)
	}
	return op.out, nil
}

// magAlphaGradRows writes magAlphaGradOp's rows (of d entries) that sel
// keeps into out and 0 to the others, in chunks of rows on GOMAXPROCS
// goroutines.
func magAlphaGradRows[T float32 | float64](out, t, h, g []T, d int, beta float64, wrt int, sel *nn.RowSelection) {
	sel.VisitRows(len(g), d, func(r0, r1 int) { // rows are independent
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
	}, func(r0, r1 int) { clear(out[r0*d : r1*d]) })
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

// magGatedShift returns ReLU(a) ⊙ b for a, b (N, H) — MAG's gated shift
// g ⊙ (W x + b) — as one op with a hand-written backward pass, in place
// of gorgonia's Rectify (a ⊙ [a ≥ 0], the mask a node of its own) and
// HadamardProd, which allocate their results and the backward pass's
// products on every run. The arithmetic is theirs, product by product:
//
//	out = (a·m)·b,   ∂L/∂a = (g·b)·m,   ∂L/∂b = g·(a·m),   m = [a ≥ 0] ∈ {0, 1}
//
// (a·m is −0 for a negative a and NaN for a NaN, as a ⊙ mask is). keep,
// if not nil, is a node of N entries read when the ops run (MAGBERT.gate's):
// they compute the rows i with keep[i] ≠ 0 only and write 0 to the others.
func magGatedShift(a, b, keep *G.Node) (*G.Node, error) {
	if a.Dims() != 2 || !slices.Equal(a.Shape(), b.Shape()) || a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("models: MAG gated shift: %v %v and %v %v must be equal (N, H) matrices", a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
	}
	if keep != nil && keep.Shape().TotalSize() != a.Shape()[0] {
		return nil, fmt.Errorf("models: MAG gated shift: row selection %v for %d rows", keep.Shape(), a.Shape()[0])
	}
	s := &magShiftState{id: opkit.NextID(), shape: a.Shape().Clone(), dtype: a.Dtype(), keep: keep}
	return G.ApplyOp(&magShiftOp{Base: opkit.Owned(fmt.Sprintf("models.MAGGatedShift#%d", s.id)), s: s, wrt: -1}, a, b)
}

// magShiftState is the geometry of one gated shift.
type magShiftState struct {
	id    uint64
	shape tensor.Shape
	dtype tensor.Dtype
	keep  *G.Node // nil: every row
}

// magShiftOp is the forward op (a, b) → out (wrt −1) or a gradient op
// (g, a, b) → ∂L/∂a (wrt 0) or ∂L/∂b (wrt 1); each owns its buffer.
type magShiftOp struct {
	opkit.Base
	s   *magShiftState
	wrt int
	buf *tensor.Dense
	sel nn.RowSelection // the rows of s.keep
}

func (op *magShiftOp) Arity() int {
	if op.wrt < 0 {
		return 2
	}
	return 3
}

func (op *magShiftOp) Type() hm.Type {
	if op.wrt < 0 {
		return opkit.FnType(2, 2, 2)
	}
	return opkit.FnType(2, 2, 2, 2)
}

func (op *magShiftOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.shape.Clone(), nil }

func (op *magShiftOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, op.Arity()); err != nil {
		return nil, err
	}
	d := make([]any, len(in))
	for k, v := range in {
		var err error
		if d[k], err = opkit.Data(v, op.s.dtype, op.s.shape, fmt.Sprintf("%v input %d", op, k)); err != nil {
			return nil, err
		}
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(op.s.dtype), tensor.WithShape(op.s.shape...))
	}
	if op.wrt < 0 {
		d = append([]any{nil}, d...) // no g
	}
	if _, err := op.sel.Read(op.s.keep, op.s.shape[0], op.String()); err != nil {
		return nil, err
	}
	switch out := op.buf.Data().(type) {
	case []float32:
		g, _ := d[0].([]float32)
		magShiftValues(op.wrt, out, g, d[1].([]float32), d[2].([]float32), op.s.shape[1], &op.sel)
	case []float64:
		g, _ := d[0].([]float64)
		magShiftValues(op.wrt, out, g, d[1].([]float64), d[2].([]float64), op.s.shape[1], &op.sel)
	}
	return op.buf, nil
}

// magShiftValues writes magGatedShift's out (wrt −1), ∂L/∂a (wrt 0) or
// ∂L/∂b (wrt 1) for the output gradient g into out, rows of w entries, on
// the rows sel keeps (0 on the others).
func magShiftValues[T float32 | float64](wrt int, out, g, a, b []T, w int, sel *nn.RowSelection) {
	sel.VisitRows(len(out)/w, w, func(lo, hi int) {
		o := out[lo*w : hi*w]
		a, b := a[lo*w : hi*w][:len(o)], b[lo*w : hi*w][:len(o)]
		switch wrt {
		case -1:
			for i, v := range a {
				o[i] = (v * reluMask(v)) * b[i]
			}
		case 0:
			g := g[lo*w : hi*w][:len(o)]
			for i, v := range a {
				o[i] = (g[i] * b[i]) * reluMask(v)
			}
		default:
			g := g[lo*w : hi*w][:len(o)]
			for i, v := range a {
				o[i] = g[i] * (v * reluMask(v))
			}
		}
	}, func(lo, hi int) { clear(out[lo*w : hi*w]) })
}

// reluMask returns [x ≥ 0] (0 for a NaN) by a table lookup on the
// comparison, which compiles without a branch: a's signs are random, and
// a mispredicted branch per entry cost 7× the loop.
func reluMask[T float32 | float64](x T) T {
	k := 0
	if x >= 0 {
		k = 1
	}
	return [2]T{0, 1}[k]
}

func (op *magShiftOp) DiffWRT(n int) []bool { return pairDiffWRT(op.wrt, n) }

func (op *magShiftOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return pairSymDiff(op.wrt, "MAG's gated shift", inputs, grad, func(wrt int) G.Op {
		return &magShiftOp{Base: opkit.Owned(fmt.Sprintf("models.MAGGatedShift#%d.d%d", op.s.id, wrt)), s: op.s, wrt: wrt}
	})
}

// pairDiffWRT is DiffWRT of an op with two inputs that is a forward op
// (wrt −1: differentiable w.r.t. both) or one of its gradient ops (wrt 0,
// 1: not differentiable) — MAG's gated shift and scale.
func pairDiffWRT(wrt, n int) []bool {
	if wrt < 0 {
		return []bool{true, true}
	}
	return make([]bool, n)
}

// pairSymDiff is SymDiff of such an op: for a forward op, the gradient ops
// gradOp(0) and gradOp(1) applied to (grad, inputs[0], inputs[1]); a
// gradient op (wrt ≥ 0) has no derivative, an error naming what.
func pairSymDiff(wrt int, what string, inputs G.Nodes, grad *G.Node, gradOp func(wrt int) G.Op) (G.Nodes, error) {
	if wrt >= 0 {
		return nil, fmt.Errorf("models: second derivative of %s is not implemented", what)
	}
	out := make(G.Nodes, 2)
	for w := range out {
		var err error
		if out[w], err = G.ApplyOp(gradOp(w), grad, inputs[0], inputs[1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// magScale returns α ⊙ h, row i of h (N, H) times α_i (α (N)), MAG's
// scaled shift, as one op with a hand-written backward pass in place of
// gorgonia's BroadcastHadamardProd (a repeat of α to (N, H), a product,
// and in the backward pass a product and a row sum, all allocated on every
// run). The arithmetic is theirs:
//
//	out_ij = h_ij·α_i,   ∂L/∂h_ij = g_ij·α_i,   ∂L/∂α_i = Σ_j (g_ij·h_ij)
//
// the products rounded to the dtype and the row sum added in the dtype
// left to right (the tensor engine's sum along the last axis). keep, if
// not nil, is a node of N entries read when the ops run (MAGBERT.gate's):
// they compute the rows i with keep[i] ≠ 0 and write 0 to the others.
func magScale(h, alpha, keep *G.Node) (*G.Node, error) {
	if h.Dims() != 2 || alpha.Dims() != 1 || alpha.Shape()[0] != h.Shape()[0] || h.Dtype() != alpha.Dtype() {
		return nil, fmt.Errorf("models: MAG scale: h %v %v and α %v %v must be (N, H) and (N)", h.Shape(), h.Dtype(), alpha.Shape(), alpha.Dtype())
	}
	if keep != nil && keep.Shape().TotalSize() != h.Shape()[0] {
		return nil, fmt.Errorf("models: MAG scale: row selection %v for %d rows", keep.Shape(), h.Shape()[0])
	}
	s := &magShiftState{id: opkit.NextID(), shape: h.Shape().Clone(), dtype: h.Dtype(), keep: keep}
	return G.ApplyOp(&magScaleOp{Base: opkit.Owned(fmt.Sprintf("models.MAGScale#%d", s.id)), s: s, wrt: -1}, h, alpha)
}

// magScaleOp is the forward op (h, α) → out (wrt −1) or a gradient op
// (g, h, α) → ∂L/∂h (wrt 0) or ∂L/∂α (wrt 1); each owns its buffer.
type magScaleOp struct {
	opkit.Base
	s   *magShiftState // the geometry of h
	wrt int
	buf *tensor.Dense
	sel nn.RowSelection // the rows of s.keep
}

func (op *magScaleOp) Arity() int {
	if op.wrt < 0 {
		return 2
	}
	return 3
}

func (op *magScaleOp) Type() hm.Type {
	if op.wrt < 0 {
		return opkit.FnType(2, 1, 2)
	}
	if op.wrt == 1 {
		return opkit.FnType(2, 2, 1, 1)
	}
	return opkit.FnType(2, 2, 1, 2)
}

func (op *magScaleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.wrt == 1 {
		return tensor.Shape{op.s.shape[0]}, nil
	}
	return op.s.shape.Clone(), nil
}

func (op *magScaleOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, op.Arity()); err != nil {
		return nil, err
	}
	n := op.s.shape[0]
	shapes := []tensor.Shape{op.s.shape, op.s.shape, {n}}
	if op.wrt < 0 {
		shapes = shapes[1:]
	}
	d := make([]any, len(in))
	for k, v := range in {
		var err error
		if d[k], err = opkit.Data(v, op.s.dtype, shapes[k], fmt.Sprintf("%v input %d", op, k)); err != nil {
			return nil, err
		}
	}
	if op.wrt < 0 {
		d = append([]any{nil}, d...) // no g
	}
	out := op.s.shape
	if op.wrt == 1 {
		out = tensor.Shape{n}
	}
	op.buf = ownedBuffer(op.buf, op.s.dtype, out...)
	if _, err := op.sel.Read(op.s.keep, n, op.String()); err != nil {
		return nil, err
	}
	switch o := op.buf.Data().(type) {
	case []float32:
		g, _ := d[0].([]float32)
		magScaleValues(op.wrt, o, g, d[1].([]float32), d[2].([]float32), op.s.shape[1], &op.sel)
	case []float64:
		g, _ := d[0].([]float64)
		magScaleValues(op.wrt, o, g, d[1].([]float64), d[2].([]float64), op.s.shape[1], &op.sel)
	}
	return op.buf, nil
}

// magScaleValues writes magScale's out (wrt −1), ∂L/∂h (wrt 0) or ∂L/∂α
// (wrt 1) for the output gradient g into out, h in rows of w entries, on
// the rows sel keeps (0 on the others).
func magScaleValues[T float32 | float64](wrt int, out, g, h, alpha []T, w int, sel *nn.RowSelection) {
	rows := len(alpha)
	if wrt == 1 {
		sel.VisitRows(rows, w, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi, hr := g[i*w:(i+1)*w], h[i*w:(i+1)*w]
				hr = hr[:len(gi)]
				var s T
				for j, v := range gi {
					s += T(v * hr[j]) // rounded before the sum, never fused
				}
				out[i] = s
			}
		}, func(lo, hi int) { clear(out[lo:hi]) })
		return
	}
	sel.VisitRows(rows, w, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, a := out[i*w:(i+1)*w], alpha[i]
			if wrt < 0 {
				for j, v := range h[i*w : (i+1)*w][:len(o)] {
					o[j] = v * a
				}
				continue
			}
			for j, v := range g[i*w : (i+1)*w][:len(o)] {
				o[j] = v * a
			}
		}
	}, func(lo, hi int) { clear(out[lo*w : hi*w]) })
}

func (op *magScaleOp) DiffWRT(n int) []bool { return pairDiffWRT(op.wrt, n) }

func (op *magScaleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return pairSymDiff(op.wrt, "MAG's scale", inputs, grad, func(wrt int) G.Op {
		return &magScaleOp{Base: opkit.Owned(fmt.Sprintf("models.MAGScale#%d.d%d", op.s.id, wrt)), s: op.s, wrt: wrt}
	})
}
