package nn

import (
	"math"
	"runtime"
	"testing"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/synergy/nn/opkit"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naiveGemm is C = alpha·op(A)·op(B) + beta·C by the definition.
func naiveGemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	at := func(i, p int) float64 {
		if tA == blas.Trans {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if tB == blas.Trans {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// TestGemmSplitMatchesNaive checks the split GEMM (rows of C for tall C,
// columns for wide C) against the definition for every transpose
// combination, with GOMAXPROCS 2 and 3 (uneven blocks).
func TestGemmSplitMatchesNaive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := newTestRNG(11)
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, sz := range [][3]int{{2049, 7, 300}, {5, 1613, 600}} { // m·n·k ≥ matmul.SplitMin
			m, n, k := sz[0], sz[1], sz[2]
			if m*n*k < matmul.SplitMin {
				t.Fatalf("size %v does not reach the split threshold", sz)
			}
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					lda, ldb := k, n
					if tA == blas.Trans {
						lda = m
					}
					if tB == blas.Trans {
						ldb = k
					}
					a, b := randomValues(rng, m*k), randomValues(rng, k*n)
					c0 := randomValues(rng, m*n)
					want := append([]float64(nil), c0...)
					got := append([]float64(nil), c0...)
					naiveGemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, want, n)
					gemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, got, n)
					for i := range want {
						if d := math.Abs(got[i] - want[i]); d > 1e-10*(1+math.Abs(want[i])) {
							t.Fatalf("procs %d, %v, tA=%v tB=%v: C[%d] = %v, want %v", procs, sz, tA, tB, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestFusedLinearGradientLarge runs the gradient check on a Linear large
// enough for every GEMM of its forward and backward pass to be split.
func TestFusedLinearGradientLarge(t *testing.T) {
	rng := newTestRNG(12)
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "big", 2048, 600, true, rng)
	x := paramInput(ps, "x", rng, 4, 2048)
	g := NewGraph(tensor.Float64, true)
	y, err := lin.Forward(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	res, err := GradCheck(g, weightedSum(t, g, y, rng), ps.Params(), GradCheckOptions{MaxPerParam: 60})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Linear(2048→600, B=4): max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > gradCheckTol || res.Checked == 0 {
		t.Errorf("gradient check failed: %+v", res)
	}
}

// TestFusedLinearSharedWeights applies one Linear to two inputs (as the
// coupling nets and critics are applied to u and v): gorgonia must sum the
// two weight gradients, and the two applications must not be merged.
func TestFusedLinearSharedWeights(t *testing.T) {
	rng := newTestRNG(13)
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "shared", 3, 4, true, rng)
	x1 := paramInput(ps, "x1", rng, 5, 3)
	x2 := paramInput(ps, "x2", rng, 5, 3)
	g := NewGraph(tensor.Float64, true)
	y1, err := lin.Forward(g, g.Param(x1))
	if err != nil {
		t.Fatal(err)
	}
	y2, err := lin.Forward(g, g.Param(x2))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Add(weightedSum(t, g, y1, rng), weightedSum(t, g, y2, rng))
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "Linear shared by two inputs", g, cost, ps.Params())
}

// TestFusedLinearFloat32 compares a float32 forward pass with float64.
func TestFusedLinearFloat32(t *testing.T) {
	rng := newTestRNG(14)
	xs := randomValues(rng, 6*700)
	var outs [2][]float64
	for i, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ps := NewParamSet(dt)
		lin := NewLinear(ps, "lin", 700, 9, true, newTestRNG(15))
		g := NewGraph(dt, false)
		x := g.Constant(xs, 6, 700)
		y, err := lin.Forward(g, x)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		outs[i] = valuesOf(y.Value())
		vm.Close()
	}
	for j := range outs[0] {
		if d := math.Abs(outs[0][j] - outs[1][j]); d > 1e-4*(1+math.Abs(outs[0][j])) {
			t.Fatalf("y[%d]: float32 %v, float64 %v", j, outs[1][j], outs[0][j])
		}
	}
}

func valuesOf(v G.Value) []float64 {
	f, _ := opkit.Float64Copy(v, "value")
	return f
}
