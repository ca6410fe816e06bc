package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy/estimate"
)

// EpochDiagnostics are the per-epoch numbers of a run. Undefined values
// (a term switched off, a failed estimate) are NaN, written as JSON null.
type EpochDiagnostics struct {
	// Epoch counts from 1.
	Epoch int `json:"epoch"`
	// TrainLoss is the task loss averaged over the epoch's training samples
	// (each batch weighted by its size).
	TrainLoss Number `json:"train_loss"`
	// RegL2, RegD, RegKappa and RegTotal are the regularizer's unweighted
	// terms and L_reg = γ_L2·L2 + γ_d·L_d + γ_κ·L_κ, averaged like
	// TrainLoss (NaN without regularizer or with the term off).
	RegL2    Number `json:"reg_l2"`
	RegD     Number `json:"reg_d"`
	RegKappa Number `json:"reg_kappa"`
	RegTotal Number `json:"reg_total"`
	// ValidMAE is the sample mean |ŷ − y| on the validation split (for
	// Binary tasks: of the probability σ(ŷ)); ValidLoss the task loss on
	// it; ValidAcc the binary accuracy (Binary tasks; NaN otherwise).
	ValidMAE  Number `json:"valid_mae"`
	ValidLoss Number `json:"valid_loss"`
	ValidAcc  Number `json:"valid_acc"`
	// KurtosisFused and KurtosisUnimodal are Mardia's multivariate kurtosis
	// (estimate.MardiaKurtosis) of the validation representations Z and
	// Z_t, Z_a, Z_v from the evaluation graph. A Gaussian in p dimensions
	// gives p(p+2). When a sample covariance is singular it is loaded with
	// 1e-6·tr(S)/p on the diagonal and KurtosisLoaded says so.
	KurtosisFused    Number    `json:"kurtosis_fused"`
	KurtosisUnimodal [3]Number `json:"kurtosis_unimodal"`
	KurtosisLoaded   bool      `json:"kurtosis_loaded,omitempty"`
	// MMD2 is, per modality i, the biased MMD² (estimate.MMD2) between
	// D_i Z_i and D̃_i Z on the validation split, D_i and D̃_i fixed random
	// k×d projections with N(0, 1/k) entries drawn from the run seed
	// independently of the regularizer (so runs with and without it are
	// comparable), with Gaussian kernels at {0.5, 1, 2} × the median
	// heuristic of the pooled sample.
	MMD2 [3]Number `json:"mmd2"`
}

// diagnosticProjections are the fixed projections of the MMD² diagnostic.
type diagnosticProjections struct {
	unimodal, fused []*mat.Dense // per modality: d_i×k and d×k
}

// newDiagnosticProjections draws them from the run seed's diagnostic
// stream; k is the target dimension.
func newDiagnosticProjections(seed uint64, k int, unimodalDims []int, fusedDim int) *diagnosticProjections {
	s := derivedSeed(seed, streamDiagnostic)
	rng := rand.New(rand.NewPCG(s, mix(s)))
	draw := func(d int) *mat.Dense {
		v := make([]float64, d*k)
		for i := range v {
			v[i] = rng.NormFloat64() / math.Sqrt(float64(k))
		}
		return mat.NewDense(d, k, v)
	}
	p := &diagnosticProjections{}
	for _, d := range unimodalDims {
		p.unimodal = append(p.unimodal, draw(d))
		p.fused = append(p.fused, draw(fusedDim))
	}
	return p
}

// kurtosis returns Mardia's kurtosis of the rows of x, falling back to a
// diagonally loaded covariance S + λI, λ = 1e-6·tr(S)/p (+1e-12), when S is
// singular (then loaded is true). It returns NaN when even that fails.
func kurtosis(x *mat.Dense) (k Number, loaded bool) {
	v, err := estimate.MardiaKurtosis(x)
	if err == nil {
		return Number(v), false
	}
	n, p := x.Dims()
	if n < 2 {
		return NaN(), false
	}
	centered := mat.DenseCopyOf(x)
	for j := 0; j < p; j++ {
		var m float64
		for i := 0; i < n; i++ {
			m += centered.At(i, j)
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			centered.Set(i, j, centered.At(i, j)-m)
		}
	}
	var s mat.SymDense
	s.SymOuterK(1/float64(n), centered.T())
	lambda := 1e-12
	for j := 0; j < p; j++ {
		lambda += 1e-6 * s.At(j, j) / float64(p)
	}
	for j := 0; j < p; j++ {
		s.SetSym(j, j, s.At(j, j)+lambda)
	}
	var prec mat.Dense
	if err := prec.Inverse(&s); err != nil {
		return NaN(), true
	}
	v, err = estimate.RobustKurtosis(x, &prec, 0)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return NaN(), true
	}
	return Number(v), true
}

// mmd2Diagnostic returns the biased MMD² between the first rows of
// z·proj and fused·projF with median-heuristic bandwidths.
func mmd2Diagnostic(z, fused, proj, projF *mat.Dense, rows int) (Number, error) {
	n, _ := z.Dims()
	rows = min(rows, n)
	var a, b mat.Dense
	a.Mul(z.Slice(0, rows, 0, z.RawMatrix().Cols), proj)
	b.Mul(fused.Slice(0, rows, 0, fused.RawMatrix().Cols), projF)
	med, err := estimate.MedianHeuristic(&a, &b)
	if err != nil {
		return NaN(), err
	}
	if !(med > 0) {
		return NaN(), fmt.Errorf("train: MMD² diagnostic: median distance %v (representations collapsed)", med)
	}
	v, err := estimate.MMD2(&a, &b, estimate.BandwidthsFromMedian(med, nil), false)
	if err != nil {
		return NaN(), err
	}
	return Number(v), nil
}

// representationDiagnostics fills the kurtosis and MMD² fields of d from
// the validation representations.
func (p *diagnosticProjections) fill(d *EpochDiagnostics, reps *representations, rows int) {
	var loaded bool
	d.KurtosisFused, loaded = kurtosis(reps.fused)
	d.KurtosisLoaded = d.KurtosisLoaded || loaded
	for i, z := range reps.unimodal {
		d.KurtosisUnimodal[i], loaded = kurtosis(z)
		d.KurtosisLoaded = d.KurtosisLoaded || loaded
		v, err := mmd2Diagnostic(z, reps.fused, p.unimodal[i], p.fused[i], rows)
		if err != nil {
			v = NaN()
		}
		d.MMD2[i] = v
	}
}
