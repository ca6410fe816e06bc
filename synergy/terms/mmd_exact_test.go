package terms

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// oldMMDForward is the forward loop of the MMD² op before pairDistances:
// each pair's squared distance summed on its own, then its kernels. It
// returns MMD² and the kernel terms ω_ij Σ_s c_s e^{−D_ij c_s}.
func oldMMDForward(st *mmdState, w, inv []float64) (float64, []float64) {
	n, k := st.rows, st.cols
	kern := make([]float64, n*n)
	total := 0.0
	for i := 0; i < n; i++ {
		wi := w[i*k : (i+1)*k]
		om := st.weight(i, i)
		total += om * float64(len(inv))
		for j := i + 1; j < n; j++ {
			wj := w[j*k : (j+1)*k]
			dist := 0.0
			for t, a := range wi {
				diff := a - wj[t]
				dist += diff * diff
			}
			var kv, dk float64
			for _, c := range inv {
				e := math.Exp(-dist * c)
				kv += e
				dk += c * e
			}
			om := st.weight(i, j)
			total += 2 * om * kv
			kern[i*n+j] = om * dk
		}
	}
	return total, kern
}

// mmdTerm builds the MMD² op of a (n/2 + n/2)×k pooled float32 or float64
// sample with the given 1/(2σ²) and returns the term and its input
// values (the sample, then the bandwidths).
func mmdTerm(t *testing.T, dt tensor.Dtype, n, k int, inv []float64, o MMDOptions, rng *rand.Rand) (*MMD, []G.Value, []float64) {
	t.Helper()
	g := nn.NewGraph(dt, false)
	nodes, _ := mmdInputs(g, inv)
	m, err := NewPooledMMD2(g.Input("w", n, k), nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, n*k)
	for i := range w {
		w[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64())
	}
	var sample *tensor.Dense
	if dt == tensor.Float32 {
		w32 := make([]float32, len(w))
		for i, v := range w {
			w32[i] = float32(v)
			w[i] = float64(w32[i])
		}
		sample = tensor.New(tensor.WithShape(n, k), tensor.WithBacking(w32))
	} else {
		sample = tensor.New(tensor.WithShape(n, k), tensor.WithBacking(append([]float64(nil), w...)))
	}
	vals := []G.Value{sample}
	for _, c := range inv {
		if dt == tensor.Float32 {
			vals = append(vals, G.NewF32(float32(c)))
		} else {
			vals = append(vals, G.NewF64(c))
		}
	}
	return m, vals, w
}

// TestMMDForwardBitExact compares the MMD² op's forward pass (four pairs'
// distances summed at once, the exponentials by optvec.Exp64) with the
// one-pair loop of math.Exp calls it replaced, bit for bit: the value and
// every kernel term the backward pass uses, for row counts with and
// without a remainder of pairs.
func TestMMDForwardBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	inv := []float64{0.37, 0.0925, 0.023125}
	for _, o := range mmdCases {
		for _, shape := range [][2]int{{4, 1}, {6, 3}, {10, 16}, {64, 16}, {66, 7}, {128, 16}} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				m, vals, w := mmdTerm(t, dt, shape[0], shape[1], inv, o, rng)
				op := m.Value.Op().(*mmdOp)
				got, err := op.Do(vals...)
				if err != nil {
					t.Fatal(err)
				}
				c := make([]float64, len(inv))
				for s := range inv {
					c[s] = op.st.inv[s]
				}
				want, kern := oldMMDForward(op.st, w, c)
				g, _ := got.Data().(float64)
				if dt == tensor.Float32 {
					g = float64(got.Data().(float32))
					want = float64(float32(want))
				}
				if math.Float64bits(g) != math.Float64bits(want) {
					t.Errorf("%+v %v %v: MMD² %v, one-pair loop %v", o, shape, dt, g, want)
				}
				n := shape[0]
				for i := 0; i < n; i++ {
					for j := i + 1; j < n; j++ {
						if a, b := op.st.kern[i*n+j], kern[i*n+j]; math.Float64bits(a) != math.Float64bits(b) {
							t.Fatalf("%+v %v %v: kernel term (%d,%d) %v, one-pair loop %v", o, shape, dt, i, j, a, b)
						}
					}
				}
			}
		}
	}
}

// TestMMDMedianDistance checks that the median of the MMD²'s distances is
// estimate.MedianHeuristicRows of the pooled sample bit for bit, and that
// it refuses a run with a non-finite entry and a short work slice.
func TestMMDMedianDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][2]int{{4, 1}, {6, 3}, {64, 16}, {66, 7}} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			n, k := shape[0], shape[1]
			m, vals, w := mmdTerm(t, dt, n, k, []float64{0.5}, MMDOptions{}, rng)
			if _, err := m.MedianDistance(make([]float64, n*(n-1)/2)); err == nil {
				t.Errorf("%v: median before a run: want an error", shape)
			}
			if _, err := m.Value.Op().(*mmdOp).Do(vals...); err != nil {
				t.Fatal(err)
			}
			got, err := m.MedianDistance(make([]float64, n*(n-1)/2))
			if err != nil {
				t.Fatal(err)
			}
			want, err := estimate.MedianHeuristicRows(w, n, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%v %v: median %v, MedianHeuristicRows %v", shape, dt, got, want)
			}
			if _, err := m.MedianDistance(make([]float64, n*(n-1)/2-1)); err == nil {
				t.Errorf("%v: short work: want an error", shape)
			}
		}
	}
	m, vals, _ := mmdTerm(t, tensor.Float64, 4, 2, []float64{0.5}, MMDOptions{}, rng)
	vals[0].(*tensor.Dense).Float64s()[3] = math.Inf(1)
	if _, err := m.Value.Op().(*mmdOp).Do(vals...); err != nil {
		t.Fatal(err)
	}
	if _, err := m.MedianDistance(make([]float64, 6)); err == nil {
		t.Error("sample with +Inf: want an error")
	}
}

// oldMMDBackward is the MMD² op's backward loop before mmdPairs: every
// pair (i, j > i) updates both rows of ∂L/∂w in memory.
func oldMMDBackward(st *mmdState, g float64) []float64 {
	n, k := st.rows, st.cols
	dw, w := make([]float64, n*k), st.w
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
	return dw
}

// TestMMDBackwardBitExact compares the MMD² op's backward pass (mmdPairs:
// row i's sums in registers, the columns in groups of 16 and 4) with the
// pair loop it replaced, bit for bit, for column counts with and without
// a remainder, with kernel terms equal to zero (skipped pairs) and both
// dtypes.
func TestMMDBackwardBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	inv := []float64{0.37, 0.0925, 0.023125}
	for _, o := range mmdCases {
		for _, shape := range [][2]int{{4, 1}, {6, 3}, {10, 4}, {12, 5}, {64, 16}, {66, 7}, {40, 20}, {128, 16}, {34, 37}} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				m, vals, _ := mmdTerm(t, dt, shape[0], shape[1], inv, o, rng)
				op := m.Value.Op().(*mmdOp)
				if _, err := op.Do(vals...); err != nil {
					t.Fatal(err)
				}
				n := shape[0]
				for p := 0; p < n; p++ { // some skipped pairs
					i := rng.IntN(n - 1)
					j := i + 1 + rng.IntN(n-i-1)
					op.st.kern[i*n+j] = 0
				}
				g := rng.NormFloat64()
				want := oldMMDBackward(op.st, g)
				if _, err := op.st.backward(opkit.ScalarValue(dt, g)); err != nil {
					t.Fatal(err)
				}
				if dt == tensor.Float32 {
					g = float64(float32(g))
					want = oldMMDBackward(op.st, g)
				}
				for e, v := range op.st.dw {
					if math.Float64bits(v) != math.Float64bits(want[e]) {
						t.Fatalf("%+v %v %v: ∂L/∂w[%d] %v, pair loop %v", o, shape, dt, e, v, want[e])
					}
				}
			}
		}
	}
}
