package terms

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// MMDOptions choose the estimator of PooledMMD2.
type MMDOptions struct {
	// Unbiased drops the diagonals of Kxx and Kyy (the U-statistic).
	Unbiased bool
	// Sum selects §2.2's plain sums Σ K(p,p') + Σ K(q,q') − 2 Σ K(p,q)
	// (B² times the means, B(B−1) times them for the unbiased within-sample
	// sums) instead of the means.
	Sum bool
}

// PooledMMD2 adds the squared MMD between the first and the last B rows of
// the pooled sample w = [x; y] (2B, k) to the graph as one op with a
// hand-written backward pass. With the Gaussian kernel family
// k(a, b) = Σ_s exp(−‖a − b‖²·c_s), c_s = 1/(2σ_s²) (inv, one scalar input
// per bandwidth) and D_ij = ‖w_i − w_j‖²,
//
//	MMD² = Σ_ij ω_ij Σ_s exp(−D_ij c_s)
//
// where ω_ij = 1/B² for two rows of the same sample and −1/B² across them:
// the biased estimator mean Kxx + mean Kyy − 2 mean Kxy. The unbiased
// estimator sets ω_ii = 0 and ω_ij = 1/(B(B−1)) within a sample. With
// o.Sum the weights are ±1 (ω_ii = 0 when unbiased): the sums §2.2 writes.
// The gradient, with ω symmetric, is
//
//	∂L/∂w_i = −4·∂L/∂MMD² · Σ_j ω_ij (Σ_s c_s e^{−D_ij c_s})·(w_i − w_j).
//
// No gradient flows to the bandwidths.
func PooledMMD2(w *G.Node, inv []*G.Node, o MMDOptions) (*G.Node, error) {
	m, err := NewPooledMMD2(w, inv, o)
	if err != nil {
		return nil, err
	}
	return m.Value, nil
}

// MMD is one PooledMMD2 term of a graph: its value node and the squared
// distances D_ij its last forward run computed.
type MMD struct {
	// Value is the scalar node MMD².
	Value *G.Node
	st    *mmdState
}

// NewPooledMMD2 is PooledMMD2 returning the term, whose MedianDistance
// reuses the forward run's pairwise distances.
func NewPooledMMD2(w *G.Node, inv []*G.Node, o MMDOptions) (*MMD, error) {
	s := w.Shape()
	if len(s) != 2 || s[0] < 4 || s[0]%2 != 0 {
		return nil, fmt.Errorf("terms: MMD²: pooled sample shape %v, want (2B, k) with B ≥ 2", s)
	}
	if len(inv) == 0 {
		return nil, fmt.Errorf("terms: MMD²: no bandwidths")
	}
	st := &mmdState{id: opkit.NextID(), dtype: w.Dtype(), rows: s[0], cols: s[1], bandwidths: len(inv), unbiased: o.Unbiased, sum: o.Sum}
	v, err := G.ApplyOp(&mmdOp{Base: opkit.Instance(fmt.Sprintf("MMD2#%d", st.id)), st: st}, append([]*G.Node{w}, inv...)...)
	if err != nil {
		return nil, err
	}
	return &MMD{Value: v, st: st}, nil
}

// MedianDistance returns the median of the Euclidean distances √D_ij over
// the pairs i < j of the last forward run's pooled sample, the same value
// bit for bit as estimate.MedianHeuristicRows on that sample (the same
// sums of squares, in the same order), without computing the distances
// again. work is scratch of at least n(n−1)/2 entries (n = 2B). It returns
// an error before the first run and, as MedianHeuristicRows, for a NaN or
// ±Inf entry of the sample.
func (m *MMD) MedianDistance(work []float64) (float64, error) {
	st := m.st
	n, k := st.rows, st.cols
	if !st.ran {
		return 0, fmt.Errorf("terms: MMD² %d: no forward run yet", st.id)
	}
	if len(work) < n*(n-1)/2 {
		return 0, fmt.Errorf("terms: MMD² %d: work has %d entries, want at least %d", st.id, len(work), n*(n-1)/2)
	}
	for i, v := range st.w[:n*k] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("terms: MMD² %d: pooled sample [%d,%d] = %v, want a finite value", st.id, i/k, i%k, v)
		}
	}
	sq := work[:0]
	for i := 0; i < n; i++ {
		sq = append(sq, st.dist[i*n+i+1:(i+1)*n]...)
	}
	return estimate.MedianOfSquaredDistances(sq), nil
}

// mmdState holds the float64 intermediates of one MMD² op, shared by its
// forward and backward op.
type mmdState struct {
	id         uint64
	dtype      tensor.Dtype
	rows, cols int // 2B, k
	bandwidths int
	unbiased   bool
	sum        bool

	w    []float64 // pooled sample (2B×k)
	inv  []float64 // c_s
	kern []float64 // ω_ij Σ_s c_s e^{−D_ij c_s} (2B×2B, upper triangle used)
	dist []float64 // D_ij (2B×2B, upper triangle above the diagonal used)
	arg  []float64 // −D_ij c_s of one row i, bandwidth-major (scratch)
	exp  []float64 // e^{−D_ij c_s} of one row i (scratch)
	ran  bool
	dw   []float64
	coef []float64 // −4·∂L/∂MMD²·kern of one row i (backward scratch)
	grad opkit.Buffer
}

// weight returns ω_ij.
func (st *mmdState) weight(i, j int) float64 {
	B := st.rows / 2
	switch {
	case st.unbiased && i == j:
		return 0
	case st.sum && (i < B) != (j < B):
		return -1
	case st.sum:
		return 1
	case (i < B) != (j < B):
		return -1 / float64(B*B)
	case st.unbiased:
		return 1 / float64(B*(B-1))
	}
	return 1 / float64(B*B)
}

type mmdOp struct {
	opkit.Base
	st *mmdState
}

func (op *mmdOp) Arity() int { return 1 + op.st.bandwidths }
func (op *mmdOp) Type() hm.Type {
	ts := []hm.Type{opkit.MatrixType()}
	for i := 0; i < op.st.bandwidths; i++ {
		ts = append(ts, opkit.ScalarType())
	}
	return hm.NewFnType(append(ts, opkit.ScalarType())...)
}
func (op *mmdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op *mmdOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	n, k := st.rows, st.cols
	st.w = opkit.Grow(st.w, n*k)
	st.inv = opkit.Grow(st.inv, st.bandwidths)
	st.kern = opkit.Grow(st.kern, n*n)
	if err := opkit.Float64s(st.w, vals[0], "MMD² pooled sample"); err != nil {
		return nil, err
	}
	for s := range st.inv {
		c, err := opkit.Float64(vals[1+s], "MMD² bandwidth")
		if err != nil {
			return nil, err
		}
		if !(c > 0) || math.IsInf(c, 0) {
			return nil, op.Errorf("1/(2σ²) = %v for bandwidth %d, want a finite value > 0", c, s)
		}
		st.inv[s] = c
	}
	st.dist = opkit.Grow(st.dist, n*n)
	pairDistances(st.w, n, k, st.dist)
	S := st.bandwidths
	st.arg = opkit.Grow(st.arg, (n-1)*S)
	st.exp = opkit.Grow(st.exp, (n-1)*S)
	total := 0.0
	for i := 0; i < n; i++ {
		// Diagonal: D_ii = 0, every kernel is 1.
		om := st.weight(i, i)
		total += om * float64(S)
		st.kern[i*n+i] = 0
		// e^{−D_ij c_s} for the pairs (i, j > i), bandwidth by bandwidth
		// (optvec.Exp64: math.Exp's values, four at a time).
		m := n - i - 1
		args, exps := st.arg[:m*S], st.exp[:m*S]
		for s, c := range st.inv {
			a := args[s*m : (s+1)*m]
			for jj, dist := range st.dist[i*n+i+1 : (i+1)*n] {
				a[jj] = -dist * c
			}
		}
		optvec.Exp64(exps, args)
		for j := i + 1; j < n; j++ {
			var kv, dk float64
			for s, c := range st.inv {
				e := exps[s*m+j-i-1]
				kv += e
				dk += c * e
			}
			om := st.weight(i, j)
			total += 2 * om * kv
			st.kern[i*n+j] = om * dk
		}
	}
	st.ran = true
	return opkit.ScalarValue(st.dtype, total), nil
}

// pairDistances writes D_ij = Σ_t (w_it − w_jt)², summed over t in
// ascending order, into dist[i·n+j] for every pair i < j of the n rows of
// w (n×k). Four rows j are summed at once: four independent sums, each in
// the order of the one-pair loop, so the values are those of that loop
// bit for bit while the additions of different pairs overlap instead of
// waiting on each other.
func pairDistances(w []float64, n, k int, dist []float64) {
	for i := 0; i < n; i++ {
		wi := w[i*k : (i+1)*k]
		row := dist[i*n : (i+1)*n]
		j := i + 1
		for ; j+4 <= n; j += 4 {
			w0, w1, w2, w3 := w[j*k:(j+1)*k], w[(j+1)*k:(j+2)*k], w[(j+2)*k:(j+3)*k], w[(j+3)*k:(j+4)*k]
			w0, w1, w2, w3 = w0[:len(wi)], w1[:len(wi)], w2[:len(wi)], w3[:len(wi)]
			var s0, s1, s2, s3 float64
			for t, a := range wi {
				d0, d1, d2, d3 := a-w0[t], a-w1[t], a-w2[t], a-w3[t]
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
			}
			row[j], row[j+1], row[j+2], row[j+3] = s0, s1, s2, s3
		}
		for ; j < n; j++ {
			wj := w[j*k : (j+1)*k]
			s := 0.0
			for t, a := range wi {
				diff := a - wj[t]
				s += diff * diff
			}
			row[j] = s
		}
	}
}

func (op *mmdOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}
func (op *mmdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dw, err := opkit.Backward(fmt.Sprintf("MMD2Grad#%d", op.st.id), grad, output, tensor.Shape{op.st.rows, op.st.cols}, op.st.backward)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	out[0] = dw
	return out, nil
}

// backward returns ∂L/∂w for ∂L/∂MMD² = dOut from the kernel terms the
// forward run kept.
func (st *mmdState) backward(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	g, err := opkit.Float64(dOut, "MMD² output gradient")
	if err != nil {
		return nil, err
	}
	n, k := st.rows, st.cols
	st.dw = opkit.Grow(st.dw, n*k)
	dw, w := st.dw, st.w
	for i := range dw {
		dw[i] = 0
	}
	f := -4 * g
	st.coef = opkit.Grow(st.coef, n)
	for i := 0; i+1 < n; i++ {
		coef := st.coef[:n-i-1]
		for jj, kv := range st.kern[i*n+i+1 : (i+1)*n] {
			coef[jj] = f * kv
		}
		mmdPairs(dw, w, coef, i, k)
	}
	return st.grad.Write(st.dtype, tensor.Shape{n, k}, dw), nil
}

// mmdPairs adds row i's pairs (i, j), j = i+1, …, i+len(coef), to the
// gradient dw of the n×k pooled sample w (both row-major, n = i+1+len(coef)):
// for j in ascending order, skipping the coefficients c = coef[j−i−1] equal
// to zero, with v = c·(w_it − w_jt),
//
//	dw_it ← dw_it + v,   dw_jt ← dw_jt − v,
//
// each difference, product and sum rounded on its own. Every entry of dw
// thus receives its terms in the order of the pair loop (pairs (l, i),
// l < i, from the earlier rows, then (i, j)); the columns are independent,
// so on amd64 with AVX2 the first ones, in groups of 16 and 4, run in
// vector registers with dw_i held there across j (mmdPairsKernel), the
// rest here.
func mmdPairs(dw, w, coef []float64, i, k int) {
	m := len(coef)
	if m == 0 {
		return
	}
	wi, di := w[i*k:(i+1)*k], dw[i*k:(i+1)*k]
	base := (i + 1) * k
	_, _ = w[base+m*k-1], dw[base+m*k-1]
	t := 0
	if mmdPairsKernel != nil {
		for ; t+16 <= k; t += 16 {
			mmdPairsKernel(&di[t], &wi[t], &coef[0], m, &w[base+t], &dw[base+t], k, 16)
		}
		for ; t+4 <= k; t += 4 {
			mmdPairsKernel(&di[t], &wi[t], &coef[0], m, &w[base+t], &dw[base+t], k, 4)
		}
	}
	if t == k {
		return
	}
	for jj, c := range coef {
		if c == 0 {
			continue
		}
		off := base + jj*k
		wj, dj := w[off:off+k], dw[off:off+k]
		for u := t; u < k; u++ {
			v := c * (wi[u] - wj[u])
			di[u] += v
			dj[u] -= v
		}
	}
}
