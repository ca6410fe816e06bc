package nn

import (
	"fmt"
	"hash"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TensorFusion returns the flattened three-way outer product of the
// 1-appended rows of a (B, P), v (B, Q) and t (B, R), the fusion of the
// Tensor Fusion Network (Zadeh et al. 2017; the paper's TFN baseline, §5.2):
//
//	F[i, (p·(Q+1) + q)·(R+1) + r] = ã[i,p]·ṽ[i,q]·t̃[i,r],
//	ã = [1; a], ṽ = [1; v], t̃ = [1; t]            F: (B, (P+1)(Q+1)(R+1))
//
// in MMSA's order (audio, vision, text). It is one op with a hand-written
// backward pass,
//
//	∂ã[i,p] = Σ_{q,r} G[i,p,q,r]·ṽ[i,q]·t̃[i,r]   (and likewise for ṽ, t̃),
//
// of which the entries for the appended ones are dropped. gorgonia's
// equivalent (two BatchedMatMuls of 1-appended concatenations and reshapes)
// runs a small matrix product per sample forward and backward; this op
// writes F, or each gradient, in one pass into a buffer it owns.
func TensorFusion(g *Graph, a, v, t *G.Node) (*G.Node, error) {
	for i, x := range []*G.Node{a, v, t} {
		if x == nil || x.Dims() != 2 {
			return nil, fmt.Errorf("nn: TensorFusion: input %d is not a (batch, d) matrix", i)
		}
		if x.Shape()[0] != a.Shape()[0] {
			return nil, fmt.Errorf("nn: TensorFusion: input %d has %d rows, input 0 has %d", i, x.Shape()[0], a.Shape()[0])
		}
		if x.Dtype() != g.Dtype {
			return nil, fmt.Errorf("nn: TensorFusion: input %d has dtype %v, graph %v", i, x.Dtype(), g.Dtype)
		}
	}
	s := &fusionShape{id: fusionOpCounter.Add(1), dtype: g.Dtype, batch: a.Shape()[0],
		p: a.Shape()[1] + 1, q: v.Shape()[1] + 1, r: t.Shape()[1] + 1}
	return G.ApplyOp(&fusionOp{s: s, wrt: -1}, a, v, t)
}

var fusionOpCounter atomic.Uint64

// fusionShape is the geometry of one TensorFusion application; p, q, r
// count the appended one.
type fusionShape struct {
	id      uint64
	dtype   tensor.Dtype
	batch   int
	p, q, r int
}

func (s *fusionShape) inShape(k int) tensor.Shape {
	return tensor.Shape{s.batch, [3]int{s.p, s.q, s.r}[k] - 1}
}

func (s *fusionShape) outShape() tensor.Shape { return tensor.Shape{s.batch, s.p * s.q * s.r} }

// fusionOp is the forward op (wrt = −1) or the gradient with respect to
// input wrt ∈ {0, 1, 2} (inputs a, v, t, G).
type fusionOp struct {
	s   *fusionShape
	wrt int
	buf *tensor.Dense
}

func (op *fusionOp) Arity() int {
	if op.wrt < 0 {
		return 3
	}
	return 4
}

func (op *fusionOp) Type() hm.Type {
	if op.wrt < 0 {
		return linearType(2, 2, 2, 2)
	}
	return linearType(2, 2, 2, 2, 2)
}

func (op *fusionOp) shape() tensor.Shape {
	if op.wrt < 0 {
		return op.s.outShape()
	}
	return op.s.inShape(op.wrt)
}

func (op *fusionOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }

func (op *fusionOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: got %d inputs, want %d", op, len(vals), op.Arity())
	}
	in := make([]any, len(vals))
	for k := range vals {
		want := s.outShape()
		if k < 3 {
			want = s.inShape(k)
		}
		d, err := denseData(vals[k], s.dtype, want, fmt.Sprintf("%v input %d", op, k))
		if err != nil {
			return nil, err
		}
		in[k] = d
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(op.shape()...))
	}
	switch out := op.buf.Data().(type) {
	case []float64:
		fusionKernel(s, op.wrt, out, in)
	case []float32:
		fusionKernel(s, op.wrt, out, in)
	}
	return op.buf, nil
}

// fusionKernel computes the forward product (wrt < 0) or one gradient.
func fusionKernel[T float32 | float64](s *fusionShape, wrt int, out []T, in []any) {
	a, v, t := in[0].([]T), in[1].([]T), in[2].([]T)
	P, Q, R := s.p, s.q, s.r
	at, vt, tt := make([]T, P), make([]T, Q), make([]T, R) // 1-appended rows
	var gp, gq, gr []T
	if wrt >= 0 {
		clear(out)
		gp, gq, gr = make([]T, P), make([]T, Q), make([]T, R)
	}
	for i := 0; i < s.batch; i++ {
		at[0], vt[0], tt[0] = 1, 1, 1
		copy(at[1:], a[i*(P-1):(i+1)*(P-1)])
		copy(vt[1:], v[i*(Q-1):(i+1)*(Q-1)])
		copy(tt[1:], t[i*(R-1):(i+1)*(R-1)])
		if wrt < 0 {
			f := out[i*P*Q*R : (i+1)*P*Q*R]
			for p, ap := range at {
				for q, vq := range vt {
					w := ap * vq
					row := f[(p*Q+q)*R : (p*Q+q+1)*R]
					for r, tr := range tt {
						row[r] = w * tr
					}
				}
			}
			continue
		}
		g := in[3].([]T)[i*P*Q*R : (i+1)*P*Q*R]
		clear(gp)
		clear(gq)
		clear(gr)
		for p, ap := range at {
			for q, vq := range vt {
				row := g[(p*Q+q)*R : (p*Q+q+1)*R]
				switch wrt {
				case 2:
					w := ap * vq
					for r, x := range row {
						gr[r] += w * x
					}
				default:
					var dot T
					for r, x := range row {
						dot += x * tt[r]
					}
					if wrt == 0 {
						gp[p] += dot * vq
					} else {
						gq[q] += dot * ap
					}
				}
			}
		}
		src := [3][]T{gp, gq, gr}[wrt]
		copy(out[i*(len(src)-1):(i+1)*(len(src)-1)], src[1:])
	}
}

func (op *fusionOp) ReturnsPtr() bool     { return true }
func (op *fusionOp) CallsExtern() bool    { return false }
func (op *fusionOp) OverwritesInput() int { return -1 }
func (op *fusionOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.nn.tensorfusion#%d(%v,B=%d,%d,%d,%d,wrt=%d)", op.s.id, op.s.dtype, op.s.batch, op.s.p, op.s.q, op.s.r, op.wrt)
}
func (op *fusionOp) Hashcode() uint32 { return linearHashcode(op.WriteHash) }
func (op *fusionOp) String() string {
	if op.wrt < 0 {
		return fmt.Sprintf("TensorFusion#%d", op.s.id)
	}
	return fmt.Sprintf("TensorFusion#%d.d%d", op.s.id, op.wrt)
}
func (op *fusionOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *fusionOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("nn: %v SymDiff: got %d inputs, want 3", op, len(inputs))
	}
	out := make(G.Nodes, 3)
	for k := range out {
		var err error
		if out[k], err = G.ApplyOp(&fusionOp{s: op.s, wrt: k}, inputs[0], inputs[1], inputs[2], grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}
