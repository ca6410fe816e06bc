package estimate

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// gaussianSample returns an n×p matrix of independent N(shift, 1) entries.
func gaussianSample(rng *rand.Rand, n, p int, shift float64) *mat.Dense {
	x := mat.NewDense(n, p, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			x.Set(i, j, rng.NormFloat64()+shift)
		}
	}
	return x
}

// TestMardiaKurtosisGaussianLimit checks κ → p(p+2) for Gaussian data. For
// n = 20000 and p = 3 the estimator has mean p(p+2)(n−1)/(n+1) ≈ 14.9985 and
// asymptotic standard deviation √(8p(p+2)/n) ≈ 0.077 (Mardia 1970), so the
// tolerance 0.4 is about five standard deviations.
func TestMardiaKurtosisGaussianLimit(t *testing.T) {
	const n, p = 20000, 3
	rng := rand.New(rand.NewPCG(1, 2))
	gauss := gaussianSample(rng, n, p, 0)
	// Correlate and shift the columns: κ is affine invariant.
	a := mat.NewDense(p, p, []float64{2, 0, 0, 0.5, 1, 0, -1, 0.3, 0.2})
	var mixed mat.Dense
	mixed.Mul(gauss, a.T())
	for _, c := range []struct {
		name string
		x    mat.Matrix
	}{{"independent", gauss}, {"affine mixed", &mixed}} {
		got, err := MardiaKurtosis(c.x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if want := float64(p * (p + 2)); math.Abs(got-want) > 0.4 {
			t.Errorf("%s: MardiaKurtosis of %d Gaussian rows = %v, want %v ± 0.4", c.name, n, got, want)
		}
	}

	// Heavy tails: independent Student t (df 5) coordinates have population
	// kurtosis p(p+2) + Σ_j 6/(ν−4) = 15 + 18 = 33; the sample value
	// converges slowly (the 8th moment is infinite), so require only that it
	// exceeds the Gaussian value by a wide margin.
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 5, Src: rand.NewPCG(3, 4)}
	heavy := mat.NewDense(n, p, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			heavy.Set(i, j, tdist.Rand())
		}
	}
	gotT, err := MardiaKurtosis(heavy)
	if err != nil {
		t.Fatal(err)
	}
	gotG, _ := MardiaKurtosis(gauss)
	if gotT < gotG+5 {
		t.Errorf("MardiaKurtosis of Student-t(5) rows = %v, want well above the Gaussian %v", gotT, gotG)
	}
	t.Logf("n=%d p=%d: Gaussian %.4f (limit 15), Student-t(5) %.4f (population 33)", n, p, gotG, gotT)
}

// TestMMD2GaussianShift compares the unbiased MMD² of N(0, I) and N(δ, I)
// samples (d = 2, one bandwidth s = 1) with its closed form
//
//	MMD² = 2 (s²/(s²+2))^{d/2} (1 − exp(−‖δ‖²/(2(s²+2)))),
//
// which follows from x − x' ~ N(0, 2I) and x − y ~ N(−δ, 2I). Under a shift
// the estimate's standard deviation decays only like 1/√n (measured over 100
// replicates at n = m = 200: ≈ 0.03 for δ = (1, 1), ≈ 0.035 for δ = (2, 2)),
// so the test averages 50 independent replicates (standard error ≤ 0.005)
// and allows 0.025, five standard errors. Without a shift the replicate standard deviation is ≈ 0.003, so the
// mean must lie within 0.005 of 0. The mean must increase with the shift.
func TestMMD2GaussianShift(t *testing.T) {
	const n, d, s, replicates = 200, 2, 1.0, 50
	prev := math.Inf(-1)
	for _, shift := range []float64{0, 0.5, 1, 2} {
		delta2 := float64(d) * shift * shift
		want := 2 * math.Pow(s*s/(s*s+2), d/2.0) * (1 - math.Exp(-delta2/(2*(s*s+2))))
		var mean float64
		for r := 0; r < replicates; r++ {
			rng := rand.New(rand.NewPCG(5, uint64(r)))
			got, err := MMD2(gaussianSample(rng, n, d, 0), gaussianSample(rng, n, d, shift), []float64{s}, true)
			if err != nil {
				t.Fatal(err)
			}
			mean += got / replicates
		}
		tol := 0.025
		if shift == 0 {
			tol = 0.005
		}
		if math.Abs(mean-want) > tol {
			t.Errorf("shift %v: mean unbiased MMD2 over %d replicates = %v, closed form %v (tolerance %v)", shift, replicates, mean, want, tol)
		}
		if mean <= prev {
			t.Errorf("shift %v: mean unbiased MMD2 = %v, not above %v at the smaller shift", shift, mean, prev)
		}
		prev = mean
		t.Logf("shift %v: mean MMD2 %.5f, closed form %.5f", shift, mean, want)
	}
}

// TestMMD2BiasedMinusUnbiased checks the algebraic link between the two
// estimates, independent of the data: with kernel sums Kxx, Kyy (diagonals
// included), each diagonal entry equal to the number of kernels K,
//
//	biased − unbiased = Kxx/n² − (Kxx − nK)/(n(n−1)) + (same for y).
func TestMMD2BiasedMinusUnbiased(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := gaussianSample(rng, 5, 3, 0)
	y := gaussianSample(rng, 7, 3, 1)
	bws := []float64{0.5, 2}
	b, err := MMD2(x, y, bws, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := MMD2(x, y, bws, true)
	if err != nil {
		t.Fatal(err)
	}
	xd, _, _, _ := rowsOf("x", x)
	yd, _, _, _ := rowsOf("y", y)
	coef := []float64{-1 / (2 * 0.25), -1 / (2 * 4.0)}
	kxx := kernelSumWithin(xd, 5, 3, coef, true)
	kyy := kernelSumWithin(yd, 7, 3, coef, true)
	want := kxx/25 - (kxx-10)/20 + kyy/49 - (kyy-14)/42
	if math.Abs((b-u)-want) > 1e-12 {
		t.Errorf("biased − unbiased = %v, want %v", b-u, want)
	}
	if b < 0 {
		t.Errorf("biased MMD2 = %v, want ≥ 0", b)
	}
}

// TestDonskerVaradhanGaussians uses P = N(μ, 1), Q = N(0, 1), whose KL(P‖Q)
// is μ²/2. The optimal critic T(x) = log p(x)/q(x) = μx − μ²/2 (plus any
// constant) evaluated on 10⁵ samples of each gives the bound within sampling
// error (standard deviation ≈ 0.005 for μ = 1; tolerance 0.03); the
// suboptimal critic T/2 has the population value μ²/4 + μ²/8 = 0.375 < 0.5.
func TestDonskerVaradhanGaussians(t *testing.T) {
	const n, mu = 100000, 1.0
	kl := mu * mu / 2
	critic := func(scale, shift float64) (joint, marginal []float64) {
		joint, marginal = make([]float64, n), make([]float64, n)
		r := rand.New(rand.NewPCG(11, 12)) // same draws for every critic
		for i := range joint {
			p, q := r.NormFloat64()+mu, r.NormFloat64()
			joint[i] = scale*(mu*p-mu*mu/2) + shift
			marginal[i] = scale*(mu*q-mu*mu/2) + shift
		}
		return joint, marginal
	}
	optimal := DonskerVaradhan(critic(1, 0))
	if math.Abs(optimal-kl) > 0.03 {
		t.Errorf("DV with the optimal critic = %v, want KL = %v ± 0.03", optimal, kl)
	}
	shifted := DonskerVaradhan(critic(1, 700))
	if math.Abs(shifted-optimal) > 1e-9 {
		t.Errorf("DV is not invariant to a constant shift of the critic: %v vs %v", shifted, optimal)
	}
	half := DonskerVaradhan(critic(0.5, 0))
	if !(half < optimal-0.05) || math.Abs(half-0.375) > 0.03 {
		t.Errorf("DV with the halved critic = %v, want ≈ 0.375 and below the optimal %v", half, optimal)
	}
	t.Logf("KL %.4f: optimal critic %.5f, halved critic %.5f (population 0.375)", kl, optimal, half)
}

func TestDonskerVaradhanEdgeCases(t *testing.T) {
	if got := DonskerVaradhan([]float64{1000}, []float64{1000, 1000}); got != 0 {
		t.Errorf("DV([1000], [1000, 1000]) = %v, want 0 without overflow", got)
	}
	if got := DonskerVaradhan([]float64{0}, []float64{math.Inf(-1), 0}); math.Abs(got-math.Ln2) > 1e-15 {
		t.Errorf("DV([0], [−Inf, 0]) = %v, want log 2", got)
	}
	for _, c := range []struct {
		name            string
		joint, marginal []float64
	}{
		{"empty joint", nil, []float64{1}},
		{"empty marginal", []float64{1}, nil},
		{"NaN marginal", []float64{1}, []float64{math.NaN(), 1}},
		{"NaN joint", []float64{math.NaN()}, []float64{1}},
	} {
		if got := DonskerVaradhan(c.joint, c.marginal); !math.IsNaN(got) {
			t.Errorf("%s: DV = %v, want NaN", c.name, got)
		}
	}
}

// TestRobustKurtosisReducesToMardia: with the batch's own S⁻¹ as precision
// and no clipping, RobustKurtosis is Mardia's kurtosis.
func TestRobustKurtosisReducesToMardia(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := gaussianSample(rng, 50, 4, 2)
	e, err := NewEMACovariance(4, EMAOptions{Decay: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update(x); err != nil {
		t.Fatal(err)
	}
	prec, err := e.Precision()
	if err != nil {
		t.Fatal(err)
	}
	got, err := RobustKurtosis(x, prec, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := MardiaKurtosis(x)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-10*want {
		t.Errorf("RobustKurtosis with P = S⁻¹ = %v, MardiaKurtosis = %v", got, want)
	}
}

// TestEMACovarianceClipping: every clipped difference has norm ≤ clipNorm, so
// tr Ŝ = (1/B) Σ ‖d‖² ≤ clipNorm², and so is the trace of any average of Ŝ.
// Outliers must therefore not blow up S.
func TestEMACovarianceClipping(t *testing.T) {
	const clip = 1.5
	rng := rand.New(rand.NewPCG(15, 16))
	e, err := NewEMACovariance(3, EMAOptions{Decay: 0.8, ClipNorm: clip, DiagLoad: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 4; k++ {
		x := gaussianSample(rng, 16, 3, 0)
		x.Set(0, 0, 1e6) // an outlier
		if err := e.Update(x); err != nil {
			t.Fatal(err)
		}
		if tr := mat.Trace(e.Covariance()); tr > clip*clip*(1+1e-12) {
			t.Errorf("update %d: trace of S = %v, want ≤ clipNorm² = %v", k, tr, clip*clip)
		}
	}
	// Covariance returns a copy.
	c := e.Covariance()
	c.SetSym(0, 0, 1e9)
	if e.Covariance().At(0, 0) == 1e9 {
		t.Error("Covariance returned the internal matrix, want a copy")
	}
}

// TestEMACovarianceForms: on a stream of one repeated batch, appendix D's
// sum S ← α·S + Ŝ reaches Ŝ·(1 − αⁿ)/(1 − α) after n updates, the
// normalized average stays Ŝ, and the scale-matched average keeps the
// trace of the current batch; a relative clip caps every difference at
// factor × the batch's rms norm; relative and absolute loads give
// c = f·tr(S)/p + 1e-8 and c; AdvanceTo sets the state.
func TestEMACovarianceForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x := gaussianSample(rng, 20, 3, 0)
	batch, err := NewEMACovariance(3, EMAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Update(x); err != nil {
		t.Fatal(err)
	}
	shat := batch.Covariance()
	const alpha, n = 0.9, 5
	sum, _ := NewEMACovariance(3, EMAOptions{Decay: alpha, Sum: true, DiagLoad: 0.01})
	mean, _ := NewEMACovariance(3, EMAOptions{Decay: alpha, DiagLoadRelative: 0.1})
	for k := 0; k < n; k++ {
		if err := sum.Update(x); err != nil {
			t.Fatal(err)
		}
		if err := mean.Update(x); err != nil {
			t.Fatal(err)
		}
	}
	var want mat.SymDense
	want.ScaleSym((1-math.Pow(alpha, n))/(1-alpha), shat)
	if !mat.EqualApprox(sum.Covariance(), &want, 1e-12) {
		t.Errorf("sum form after %d updates:\n%v\nwant\n%v", n, mat.Formatted(sum.Covariance()), mat.Formatted(&want))
	}
	if !mat.EqualApprox(mean.Covariance(), shat, 1e-12) {
		t.Errorf("normalized form moved off a constant batch covariance")
	}
	if c := sum.Load(); c != 0.01 {
		t.Errorf("absolute load %v, want 0.01", c)
	}
	if c, want := mean.Load(), 0.1*mat.Trace(shat)/3+1e-8; math.Abs(c-want) > 1e-15 {
		t.Errorf("relative load %v, want %v", c, want)
	}
	// Scale matching: after a batch at 10× the scale, tr S = tr Ŝ of it.
	matched, _ := NewEMACovariance(3, EMAOptions{Decay: alpha, ScaleMatched: true})
	big := mat.DenseCopyOf(x)
	big.Scale(10, big)
	for _, b := range []*mat.Dense{x, big} {
		if err := matched.Update(b); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := mat.Trace(matched.Covariance()), 100*mat.Trace(shat); math.Abs(got-want) > 1e-9*want {
		t.Errorf("scale-matched trace %v, want the batch's %v", got, want)
	}
	// A relative clip: every difference ≤ factor·rms, so tr Ŝ ≤ factor²·rms².
	rel, _ := NewEMACovariance(3, EMAOptions{ClipFactor: 0.8})
	if err := rel.Update(x); err != nil {
		t.Fatal(err)
	}
	if got, bound := mat.Trace(rel.Covariance()), 0.64*mat.Trace(shat); got > bound*(1+1e-12) || got >= mat.Trace(shat) {
		t.Errorf("relative clip: trace %v, want ≤ %v and below the unclipped %v", got, bound, mat.Trace(shat))
	}
	// AdvanceTo.
	next := make([]float64, 9)
	for i := range next {
		next[i] = float64(i)
	}
	if err := rel.AdvanceTo(next); err != nil || rel.Updates() != 2 || rel.Covariance().At(0, 2) != 2 || rel.Covariance().At(2, 0) != 2 {
		t.Errorf("AdvanceTo: err %v, %d updates, S[0,2] = %v", err, rel.Updates(), rel.Covariance().At(0, 2))
	}
	next[4] = math.NaN()
	if err := rel.AdvanceTo(next); err == nil {
		t.Error("AdvanceTo with NaN: want an error")
	}
	if err := rel.AdvanceTo(next[:4]); err == nil {
		t.Error("AdvanceTo with 4 values for 3×3: want an error")
	}
}

// TestMardiaKurtosisScaleInvariance: κ does not change when the columns are
// rescaled by wildly different factors (1e−6 and 1e6), which would make the
// unscaled covariance look singular to a condition-number test.
func TestMardiaKurtosisScaleInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	x := gaussianSample(rng, 30, 3, 0)
	want, err := MardiaKurtosis(x)
	if err != nil {
		t.Fatal(err)
	}
	var scaled mat.Dense
	scaled.Mul(x, mat.NewDiagDense(3, []float64{1e-6, 1, 1e6}))
	got, err := MardiaKurtosis(&scaled)
	if err != nil {
		t.Fatalf("rescaled columns: %v", err)
	}
	if math.Abs(got-want) > 1e-10*want {
		t.Errorf("MardiaKurtosis after rescaling the columns = %v, before %v", got, want)
	}
}

// TestMardiaKurtosisGaussianMeanSmallN checks E[κ] = p(p+2)(n−1)/(n+1) where
// it differs most from p(p+2): n = 20, p = 3 gives 13.571 against 15. The
// mean over 4000 replications has a standard error of about 0.05 (the sd of
// one κ at n = 20 is ≈ 3), so the tolerance 0.25 is five of them.
func TestMardiaKurtosisGaussianMeanSmallN(t *testing.T) {
	const n, p, reps = 20, 3, 4000
	rng := rand.New(rand.NewPCG(7, 8))
	var sum float64
	for range reps {
		k, err := MardiaKurtosis(gaussianSample(rng, n, p, 0))
		if err != nil {
			t.Fatal(err)
		}
		sum += k
	}
	got, want := sum/reps, MardiaKurtosisGaussianMean(n, p)
	t.Logf("mean κ over %d Gaussian samples of %d×%d: %.3f; p(p+2)(n−1)/(n+1) = %.3f, p(p+2) = %d", reps, n, p, got, want, p*(p+2))
	if math.Abs(got-want) > 0.25 {
		t.Errorf("mean κ = %.3f, want %.3f ± 0.25", got, want)
	}
}
