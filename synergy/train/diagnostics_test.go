package train

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy/estimate"
)

// diagnosticsFixture is testdata/diagnostics.json (made by
// testdata/make_diagnostics.py with numpy and scikit-learn).
type diagnosticsFixture struct {
	Cases []struct {
		Name         string
		Rows         int
		Fused        [][]float64
		Unimodal     [][][]float64
		MMDUnimodal  [][][]float64 `json:"mmd_unimodal"`
		MMDFused     [][][]float64 `json:"mmd_fused"`
		KurtFused    [][]float64   `json:"kurt_fused"`
		KurtUnimodal [][][]float64 `json:"kurt_unimodal"`
		Want         struct {
			KurtosisFused    fixtureKurtosis   `json:"kurtosis_fused"`
			KurtosisUnimodal []fixtureKurtosis `json:"kurtosis_unimodal"`
			MMD2             []struct {
				MMD2 float64
				N, P int
			}
			Recon []struct {
				R2      float64
				N       int
				PIn     int `json:"p_in"`
				POut    int `json:"p_out"`
				Lambdas []float64
				Refused bool
			}
		}
	}
}

type fixtureKurtosis struct {
	B2, Ratio *float64
	N, P      int
	Refused   bool
}

func rowsMatrix(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

func near(got Number, want float64) bool {
	return scalar.EqualWithinAbsOrRel(float64(got), want, 1e-10, 1e-9)
}

// TestDiagnosticsFixture computes the diagnostics of fixed representations
// with fixed projections and compares every value, n and p with the numpy
// and scikit-learn reference.
func TestDiagnosticsFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/diagnostics.json")
	if err != nil {
		t.Fatalf("reading the reference: %v", err)
	}
	var f diagnosticsFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decoding testdata/diagnostics.json: %v", err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.Cases {
		reps := &representations{fused: rowsMatrix(c.Fused)}
		proj := &diagnosticProjections{kurtFused: rowsMatrix(c.KurtFused)}
		for i := range c.Unimodal {
			reps.unimodal = append(reps.unimodal, rowsMatrix(c.Unimodal[i]))
			proj.mmdUnimodal = append(proj.mmdUnimodal, rowsMatrix(c.MMDUnimodal[i]))
			proj.mmdFused = append(proj.mmdFused, rowsMatrix(c.MMDFused[i]))
			proj.kurtUnimodal = append(proj.kurtUnimodal, rowsMatrix(c.KurtUnimodal[i]))
		}
		var d EpochDiagnostics
		proj.fill(&d, reps, c.Rows, nil)
		checkKurtosis := func(what string, got KurtosisDiagnostic, want fixtureKurtosis) {
			if got.N != want.N || got.P != want.P || (got.Refused != "") != want.Refused {
				t.Errorf("%s, %s: n %d p %d refused %q; want n %d p %d refused %v", c.Name, what, got.N, got.P, got.Refused, want.N, want.P, want.Refused)
			}
			if want.Refused {
				if !math.IsNaN(float64(got.B2)) || !math.IsNaN(float64(got.Ratio)) {
					t.Errorf("%s, %s: refused but b2 %v ratio %v", c.Name, what, got.B2, got.Ratio)
				}
				return
			}
			if !near(got.B2, *want.B2) || !near(got.Ratio, *want.Ratio) {
				t.Errorf("%s, %s: b2 %.17g ratio %.17g; numpy %.17g %.17g", c.Name, what, got.B2, got.Ratio, *want.B2, *want.Ratio)
			}
		}
		checkKurtosis("fused kurtosis", d.KurtosisFused, c.Want.KurtosisFused)
		for i := range c.Unimodal {
			checkKurtosis("unimodal kurtosis "+string(rune('0'+i)), d.KurtosisUnimodal[i], c.Want.KurtosisUnimodal[i])
			m, wm := d.MMD2[i], c.Want.MMD2[i]
			if !near(m.MMD2, wm.MMD2) || m.N != wm.N || m.P != wm.P || m.Refused != "" {
				t.Errorf("%s, MMD² %d: %+v; numpy %+v", c.Name, i, m, wm)
			}
			r, wr := d.Reconstruction[i], c.Want.Recon[i]
			if wr.Refused {
				if r.Refused == "" || !math.IsNaN(float64(r.R2)) || r.N != wr.N || r.PIn != wr.PIn || r.POut != wr.POut {
					t.Errorf("%s, R² %d: %+v, want refused with n %d, p %d → %d", c.Name, i, r, wr.N, wr.PIn, wr.POut)
				}
				continue
			}
			if !near(r.R2, wr.R2) || r.N != wr.N || r.PIn != wr.PIn || r.POut != wr.POut || r.Folds != reconstructionFolds || r.Refused != "" {
				t.Errorf("%s, R² %d: %+v; scikit-learn %+v", c.Name, i, r, wr)
			}
			for k, l := range wr.Lambdas {
				if math.Abs(r.Lambdas[k]-l) > 1e-12*l {
					t.Errorf("%s, R² %d: fold %d chose λ %g, scikit-learn %g", c.Name, i, k, r.Lambdas[k], l)
				}
			}
		}
	}
}

// gaussianRows returns an n×d matrix of independent N(0, 1) entries.
func gaussianRows(rng *rand.Rand, n, d int) *mat.Dense {
	m := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// studentRows returns n rows of a d-dimensional multivariate Student t with
// nu degrees of freedom (a Gaussian row divided by √(χ²_ν/ν): one scale
// factor per row, so the tails survive any projection). Its Mardia
// kurtosis is p(p+2)(ν−2)/(ν−4) in any p-dimensional projection: 3×
// the Gaussian value for ν = 5.
func studentRows(rng *rand.Rand, n, d, nu int) *mat.Dense {
	m := gaussianRows(rng, n, d)
	for i := 0; i < n; i++ {
		var chi2 float64
		for range nu {
			g := rng.NormFloat64()
			chi2 += g * g
		}
		s := 1 / math.Sqrt(chi2/float64(nu))
		for j := 0; j < d; j++ {
			m.Set(i, j, m.At(i, j)*s)
		}
	}
	return m
}

// TestKurtosisDiagnosticProperties: the projected kurtosis of Gaussian
// representations has ratio ≈ 1 (n = 2000, p = 4: Gaussian sd of the ratio
// √(8/(p(p+2)n)) ≈ 0.013, tolerance 0.07), heavy tails raise it, a split
// of n < 10·p samples gets p = ⌊n/10⌋ where the full-dimensional statistic
// would read (n−1)², and fewer than 10 samples get no value.
func TestKurtosisDiagnosticProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	proj := newDiagnosticProjections(1, 16, 4, []int{32}, 32)
	gauss := projectedKurtosis(gaussianRows(rng, 2000, 32), proj.kurtFused)
	heavy := projectedKurtosis(studentRows(rng, 2000, 32, 5), proj.kurtFused)
	t.Logf("n = 2000, d = 32, p = 4: Gaussian ratio %.3f (b₂ %.2f), multivariate t₅ ratio %.3f (population 3)", gauss.Ratio, gauss.B2, heavy.Ratio)
	if gauss.N != 2000 || gauss.P != 4 || gauss.Refused != "" || math.Abs(float64(gauss.Ratio)-1) > 0.07 {
		t.Errorf("Gaussian: %+v, want ratio 1 ± 0.07 from n 2000, p 4", gauss)
	}
	if !(heavy.Ratio > 1.5) {
		t.Errorf("multivariate t₅: ratio %v, want > 1.5", heavy.Ratio)
	}

	// 57 validation clips of a 64-wide representation: the full statistic
	// is (n−1)² = 3136 for any data; 4 projected dimensions are informative
	// (57 ≥ 40); asked for 8, the diagnostic uses ⌊57/10⌋ = 5; 9 clips get
	// none.
	z := gaussianRows(rng, 57, 64)
	full, err := estimate.MardiaKurtosis(z.Slice(0, 57, 0, 56))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(full-56*56) > 1e-6*56*56 {
		t.Errorf("full-dimensional kurtosis of 57 rows in 56 dims = %v, want (n−1)² = 3136", full)
	}
	p4 := projectedKurtosis(z, newDiagnosticProjections(2, 16, 4, []int{64}, 64).kurtFused)
	p8 := projectedKurtosis(z, newDiagnosticProjections(2, 16, 8, []int{64}, 64).kurtFused)
	tiny := projectedKurtosis(gaussianRows(rng, 9, 64), newDiagnosticProjections(2, 16, 4, []int{64}, 64).kurtFused)
	t.Logf("57 rows of a 64-wide Gaussian: full-dimensional b₂ (56 dims) %.1f; projected p = 4 ratio %.3f; asked p = 8: p %d ratio %.3f; 9 rows: %q",
		full, p4.Ratio, p8.P, p8.Ratio, tiny.Refused)
	if p4.Refused != "" || p4.P != 4 || math.Abs(float64(p4.Ratio)-1) > 0.5 {
		t.Errorf("p = 4 on 57 rows: %+v, want a ratio near 1 from p 4", p4)
	}
	if p8.Refused != "" || p8.P != 5 || p8.N != 57 || math.Abs(float64(p8.Ratio)-1) > 0.5 {
		t.Errorf("p = 8 on 57 rows: %+v, want p 5 (n ≥ 10·p) and a ratio near 1", p8)
	}
	if tiny.Refused == "" || !math.IsNaN(float64(tiny.B2)) || tiny.N != 9 || tiny.P != 0 {
		t.Errorf("9 rows: %+v, want refused with n 9, p 0", tiny)
	}
	// A collapsed representation (rank 1) is refused, not reported.
	collapsed := mat.NewDense(100, 8, nil)
	for i := 0; i < 100; i++ {
		v := rng.NormFloat64()
		for j := 0; j < 8; j++ {
			collapsed.Set(i, j, v*float64(j+1))
		}
	}
	if c := projectedKurtosis(collapsed, newDiagnosticProjections(3, 16, 4, []int{8}, 8).kurtFused); c.Refused == "" {
		t.Errorf("rank-1 representation: %+v, want refused", c)
	}
}

// TestReconstructionDiagnosticProperties: R² ≈ 1 when Z_i is a linear
// function of the other representations, ≈ 0 when independent of them.
func TestReconstructionDiagnosticProperties(t *testing.T) {
	const n = 400
	rng := rand.New(rand.NewPCG(13, 14))
	latent := gaussianRows(rng, n, 3)
	linear := func(d int) *mat.Dense {
		var z mat.Dense
		z.Mul(latent, gaussianRows(rng, 3, d))
		return &z
	}
	related := []*mat.Dense{linear(10), linear(4), linear(6)}
	independent := []*mat.Dense{gaussianRows(rng, n, 10), gaussianRows(rng, n, 4), gaussianRows(rng, n, 6)}
	for i := range related {
		r := reconstruction(related, i)
		u := reconstruction(independent, i)
		t.Logf("modality %d: linear R² %.4f (λ %v), independent R² %.4f (λ %v)", i, r.R2, r.Lambdas, u.R2, u.Lambdas)
		if r.Refused != "" || !(r.R2 > 0.99) {
			t.Errorf("modality %d, linear relation: %+v, want R² > 0.99", i, r)
		}
		if u.Refused != "" || math.Abs(float64(u.R2)) > 0.05 {
			t.Errorf("modality %d, independent: %+v, want |R²| ≤ 0.05", i, u)
		}
	}
	if r := reconstruction([]*mat.Dense{gaussianRows(rng, 6, 2), gaussianRows(rng, 6, 2), gaussianRows(rng, 6, 2)}, 0); r.Refused == "" || r.N != 6 {
		t.Errorf("6 rows in 5 folds: %+v, want refused", r)
	}
}

// TestMMD2DiagnosticProperties: the unbiased MMD² of views of two samples
// of one law averages ≈ 0 — slightly below: standardizing each sample on
// its own fits its mean and variance, which leaves an offset of ≈ −1.3/n
// (measured over 30 draws: −0.024 at n = 57, −0.0065 at n = 200, −0.0026 at
// n = 512, for p = 4 and 16) — while a bimodal fused representation
// against a Gaussian unimodal one is far above every null value.
func TestMMD2DiagnosticProperties(t *testing.T) {
	const n, d, reps = 200, 24, 20
	rng := rand.New(rand.NewPCG(15, 16))
	var null []float64
	for r := range reps {
		p := newDiagnosticProjections(uint64(r), 4, 4, []int{d}, d)
		m := viewMMD2(gaussianRows(rng, n, d), gaussianRows(rng, n, d), p.mmdUnimodal[0], p.mmdFused[0], n)
		if m.Refused != "" || m.N != n || m.P != 4 {
			t.Fatalf("null draw %d: %+v", r, m)
		}
		null = append(null, float64(m.MMD2))
	}
	var mean, top float64
	top = math.Inf(-1)
	for _, v := range null {
		mean += v / reps
		top = math.Max(top, v)
	}
	bimodal := gaussianRows(rng, n, d)
	dir := gaussianRows(rng, 1, d)
	for i := 0; i < n; i++ {
		s := float64(2*(i%2) - 1)
		for j := 0; j < d; j++ {
			bimodal.Set(i, j, bimodal.At(i, j)+3*s*dir.At(0, j))
		}
	}
	p := newDiagnosticProjections(99, 4, 4, []int{d}, d)
	alt := viewMMD2(gaussianRows(rng, n, d), bimodal, p.mmdUnimodal[0], p.mmdFused[0], n)
	t.Logf("same law, n = %d: mean MMD² %.5f (n·mean %.2f) over %d draws, max %.5f; bimodal vs Gaussian %.5f", n, mean, mean*n, reps, top, alt.MMD2)
	if mean > 0 || mean < -2.5/n {
		t.Errorf("same law: mean MMD² %.5f, want in [−2.5/n, 0] = [%.5f, 0]", mean, -2.5/n)
	}
	if !(float64(alt.MMD2) > top+0.03) {
		t.Errorf("bimodal vs Gaussian: MMD² %v, want > the largest null value %v + 0.03", alt.MMD2, top)
	}
	if m := viewMMD2(gaussianRows(rng, 1, d), gaussianRows(rng, 1, d), p.mmdUnimodal[0], p.mmdFused[0], 512); m.Refused == "" || m.N != 1 {
		t.Errorf("one row: %+v, want refused", m)
	}
}
