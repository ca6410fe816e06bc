package synergy

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pooledMMD2 adds the squared MMD between the first and the last B rows of
// the pooled sample w = [x; y] (2B, k) to the graph as one op with a
// hand-written backward pass. With the Gaussian kernel family
// k(a, b) = Σ_s exp(−‖a − b‖²·c_s), c_s = 1/(2σ_s²) (inv, one scalar input
// per bandwidth) and D_ij = ‖w_i − w_j‖²,
//
//	MMD² = Σ_ij ω_ij Σ_s exp(−D_ij c_s)
//
// where ω_ij = 1/B² for two rows of the same sample and −1/B² across them:
// the biased estimator mean Kxx + mean Kyy − 2 mean Kxy (§4.1). The unbiased
// estimator sets ω_ii = 0 and ω_ij = 1/(B(B−1)) within a sample. The
// gradient, with ω symmetric, is
//
//	∂L/∂w_i = −4·∂L/∂MMD² · Σ_j ω_ij (Σ_s c_s e^{−D_ij c_s})·(w_i − w_j).
//
// No gradient flows to the bandwidths.
func pooledMMD2(w *G.Node, inv []*G.Node, unbiased bool) (*G.Node, error) {
	s := w.Shape()
	if len(s) != 2 || s[0] < 4 || s[0]%2 != 0 {
		return nil, fmt.Errorf("synergy: MMD²: pooled sample shape %v, want (2B, k) with B ≥ 2", s)
	}
	if len(inv) == 0 {
		return nil, fmt.Errorf("synergy: MMD²: no bandwidths")
	}
	st := &mmdState{id: fusedOpCounter.Add(1), dtype: w.Dtype(), rows: s[0], cols: s[1], bandwidths: len(inv), unbiased: unbiased}
	return G.ApplyOp(&mmdOp{st: st}, append([]*G.Node{w}, inv...)...)
}

// mmdState holds the float64 intermediates of one MMD² op, shared by its
// forward and backward op.
type mmdState struct {
	id         uint64
	dtype      tensor.Dtype
	rows, cols int // 2B, k
	bandwidths int
	unbiased   bool

	w    []float64 // pooled sample (2B×k)
	inv  []float64 // c_s
	kern []float64 // ω_ij Σ_s c_s e^{−D_ij c_s} (2B×2B, upper triangle used)
	ran  bool
	dw   []float64
	grad outputBuffer
}

// weight returns ω_ij.
func (st *mmdState) weight(i, j int) float64 {
	B := st.rows / 2
	switch {
	case (i < B) != (j < B):
		return -1 / float64(B*B)
	case st.unbiased && i == j:
		return 0
	case st.unbiased:
		return 1 / float64(B*(B-1))
	}
	return 1 / float64(B*B)
}

type mmdOp struct{ st *mmdState }

func (op *mmdOp) Arity() int { return 1 + op.st.bandwidths }
func (op *mmdOp) Type() hm.Type {
	ts := []hm.Type{matrixType()}
	for i := 0; i < op.st.bandwidths; i++ {
		ts = append(ts, scalarType())
	}
	return hm.NewFnType(append(ts, scalarType())...)
}
func (op *mmdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op *mmdOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want %d", op, len(vals), op.Arity())
	}
	n, k := st.rows, st.cols
	st.w = grow(st.w, n*k)
	st.inv = grow(st.inv, st.bandwidths)
	st.kern = grow(st.kern, n*n)
	if err := readFloat64s(st.w, vals[0], "MMD² pooled sample"); err != nil {
		return nil, err
	}
	for s := range st.inv {
		c, err := scalarFloat64(vals[1+s], "MMD² bandwidth")
		if err != nil {
			return nil, err
		}
		if !(c > 0) || math.IsInf(c, 0) {
			return nil, fmt.Errorf("synergy: %v: 1/(2σ²) = %v for bandwidth %d, want a finite value > 0", op, c, s)
		}
		st.inv[s] = c
	}
	w := st.w
	total := 0.0
	for i := 0; i < n; i++ {
		wi := w[i*k : (i+1)*k]
		// Diagonal: D_ii = 0, every kernel is 1.
		om := st.weight(i, i)
		total += om * float64(st.bandwidths)
		st.kern[i*n+i] = 0
		for j := i + 1; j < n; j++ {
			wj := w[j*k : (j+1)*k]
			dist := 0.0
			for t, a := range wi {
				diff := a - wj[t]
				dist += diff * diff
			}
			var kv, dk float64
			for _, c := range st.inv {
				e := math.Exp(-dist * c)
				kv += e
				dk += c * e
			}
			om := st.weight(i, j)
			total += 2 * om * kv
			st.kern[i*n+j] = om * dk
		}
	}
	st.ran = true
	return scalarValue(st.dtype, total), nil
}

func (op *mmdOp) ReturnsPtr() bool     { return false }
func (op *mmdOp) CallsExtern() bool    { return false }
func (op *mmdOp) OverwritesInput() int { return -1 }
func (op *mmdOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.mmd2#%d(%v,%d,%d,%d,%v)", op.st.id, op.st.dtype, op.st.rows, op.st.cols, op.st.bandwidths, op.st.unbiased)
}
func (op *mmdOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *mmdOp) String() string   { return fmt.Sprintf("MMD2#%d", op.st.id) }
func (op *mmdOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}
func (op *mmdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dw, err := G.ApplyOp(&mmdGradOp{st: op.st}, grad, output)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	out[0] = dw
	return out, nil
}

// mmdGradOp computes ∂L/∂w from (∂L/∂MMD², MMD²); MMD² is an input only to
// order it after the forward pass, the values come from the shared state.
type mmdGradOp struct{ st *mmdState }

func (op *mmdGradOp) Arity() int { return 2 }
func (op *mmdGradOp) Type() hm.Type {
	return hm.NewFnType(scalarType(), scalarType(), matrixType())
}
func (op *mmdGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.cols}, nil
}

func (op *mmdGradOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 2 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 2", op, len(vals))
	}
	if !st.ran {
		return nil, fmt.Errorf("synergy: %v: run before its forward pass", op)
	}
	g, err := scalarFloat64(vals[0], "MMD² output gradient")
	if err != nil {
		return nil, err
	}
	n, k := st.rows, st.cols
	st.dw = grow(st.dw, n*k)
	dw, w := st.dw, st.w
	for i := range dw {
		dw[i] = 0
	}
	f := -4 * g
	for i := 0; i < n; i++ {
		wi, di := w[i*k:(i+1)*k], dw[i*k:(i+1)*k]
		for j := i + 1; j < n; j++ {
			c := f * st.kern[i*n+j]
			if c == 0 {
				continue
			}
			wj, dj := w[j*k:(j+1)*k], dw[j*k:(j+1)*k]
			for t, a := range wi {
				v := c * (a - wj[t])
				di[t] += v
				dj[t] -= v
			}
		}
	}
	return st.grad.write(st.dtype, tensor.Shape{n, k}, dw), nil
}

func (op *mmdGradOp) ReturnsPtr() bool     { return true }
func (op *mmdGradOp) CallsExtern() bool    { return false }
func (op *mmdGradOp) OverwritesInput() int { return -1 }
func (op *mmdGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.mmd2.grad#%d(%v,%d,%d)", op.st.id, op.st.dtype, op.st.rows, op.st.cols)
}
func (op *mmdGradOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *mmdGradOp) String() string   { return fmt.Sprintf("MMD2Grad#%d", op.st.id) }
