package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/estimate"
)

// The per-epoch diagnostics measure, on the validation split and
// independently of the regularizer (no C-network part enters them, and their
// random projections come from the run seed's own diagnostic stream, so runs
// with and without a regularizer and the same seed use the same ones), the
// three properties the regularizer's terms ask of the representations
// (§4.1): L2 that each Z_i be predictable from the others (Reconstruction),
// L_d that the unimodal and fused representations have aligned
// distributions (MMD2), L_κ that they have low kurtosis (Kurtosis). Every
// value is recorded with the sample size n and the dimension p it was
// computed from, and a value the data cannot support is refused (NaN, with
// the reason) rather than reported.
const (
	// kurtosisRowsPerDim is the least n/p the kurtosis diagnostic is
	// computed at (it projects to fewer dimensions on a small split):
	// Mardia's statistic of n samples in p ≥ n−1 dimensions is (n−1)²
	// whatever the data, and at n = 10p the Gaussian sd of its ratio to the
	// Gaussian mean, √(8/(p(p+2)n)), is already 0.09 for p = 4.
	kurtosisRowsPerDim = 10
	// reconstructionFolds is K of the K-fold held-out R².
	reconstructionFolds = 5
)

// EpochDiagnostics are the per-epoch numbers of a run. Undefined values
// (a term switched off, a refused or failed estimate) are NaN, written as
// JSON null.
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
	// KurtosisFused and KurtosisUnimodal are Mardia's kurtosis of the
	// validation representations Z and Z_t, Z_a, Z_v in a fixed
	// low-dimensional projection (KurtosisDiagnostic; the target of L_κ).
	// They replace the full-dimensional kurtosis_fused and
	// kurtosis_unimodal of earlier results files, which were (n−1)² for
	// every representation wider than the validation split.
	KurtosisFused    KurtosisDiagnostic    `json:"kurtosis_fused_proj"`
	KurtosisUnimodal [3]KurtosisDiagnostic `json:"kurtosis_unimodal_proj"`
	// MMD2 is, per modality i, the unbiased MMD² between fixed random
	// views of Z_i and Z (MMD2Diagnostic; the target of L_d). It replaces
	// the biased, unstandardized mmd2 of earlier results files.
	MMD2 [3]MMD2Diagnostic `json:"mmd2_unbiased"`
	// Reconstruction is, per modality i, the held-out R² of Z_i predicted
	// from Z_{−i} by ridge regression (ReconstructionDiagnostic; the
	// target of L2).
	Reconstruction [3]ReconstructionDiagnostic `json:"recon_r2"`
	// RegValid is the regularizer's own terms on the validation split
	// (HeldOutTerms); nil without the synergy regularizer and in results
	// files written before it existed.
	RegValid *HeldOutTerms `json:"reg_valid,omitempty"`
}

// HeldOutTerms are the synergy regularizer's unweighted terms and L_reg
// on the first N validation rows (at most Options.DiagnosticRows, the rows
// of the MMD² diagnostic) as one batch, after the epoch's last step
// (synergy.Regularizer.Evaluate: the C-network's current parameters,
// moving covariances and bandwidths, forward only). Beside RegL2, RegD and
// RegKappa, their means over the epoch's training batches, they say
// whether what the terms reach on the data the C-network trained on holds
// on data it did not; beside the MMD2 diagnostic, whether L_d's alignment
// is one of the representations or one of the regularizer's own
// projections. NaN where a term is off or the evaluation failed
// (Refused). The summed reductions of the paper variant grow with the
// batch size: compare those only at equal N.
type HeldOutTerms struct {
	L2    Number `json:"l2"`
	D     Number `json:"d"`
	Kappa Number `json:"kappa"`
	Total Number `json:"total"`
	N     int    `json:"n"`
	// Refused says why the values are NaN.
	Refused string `json:"refused,omitempty"`
}

// KurtosisDiagnostic is Mardia's multivariate kurtosis (estimate.MardiaKurtosis)
// of a representation's n validation rows in a fixed projection to p
// dimensions: the columns of the representation are standardized over the
// rows (a constant column becomes 0), multiplied by the first p columns of
// a fixed d×k matrix with orthonormal columns drawn from the run seed
// (k = min(Options.KurtosisDim, d)), p = min(k, ⌊n/10⌋) so that n ≥ 10·p
// always, and
//
//	b₂,p = (1/n) Σ_j ((y_j − ȳ)ᵀ S⁻¹ (y_j − ȳ))²,   S with divisor n,
//
// is computed from the projected rows y_j. Mardia's statistic is affine
// invariant, so the standardization only decides which directions the
// projection mixes; heavy tails shared by the coordinates (a common scale
// factor, outlying samples) survive any projection, while tails of
// independent coordinates are partly averaged away by it.
type KurtosisDiagnostic struct {
	// B2 is b₂,p; NaN when refused.
	B2 Number `json:"b2"`
	// Ratio is B2 divided by its expectation for Gaussian data,
	// p(p+2)(n−1)/(n+1) (estimate.MardiaKurtosisGaussianMean): 1 for a
	// Gaussian at any n and p, above 1 for heavier tails, below for
	// lighter ones; its sd for Gaussian data is ≈ √(8/(p(p+2)n)).
	Ratio Number `json:"ratio"`
	// N and P are the rows and the projected dimension used (P below
	// Options.KurtosisDim on a validation split of fewer than 10·KurtosisDim
	// samples: 2 on the 23 clips of synth:mosi:0.1).
	N int `json:"n"`
	P int `json:"p"`
	// Refused says why B2 is NaN: n < 10 (no p ≥ 1 with n ≥ 10·p: with
	// fewer samples per dimension the statistic measures the sample size,
	// not the data — it is (n−1)² for p ≥ n−1), or a singular projected
	// covariance (a collapsed representation).
	Refused string `json:"refused,omitempty"`
}

// MMD2Diagnostic is the unbiased squared maximum mean discrepancy
// (estimate.MMD2 with unbiased = true) between fixed random views D_i Z_i
// and D̃_i Z of the first n validation rows (at most
// Options.DiagnosticRows): both representations are standardized per
// column over those rows, D_i (d_i×p) and D̃_i (d×p) are random orthonormal
// frames drawn from the run seed, p = min(Options.DiagnosticDim, d_i, d)
// (so that neither view is confined to a subspace of the other's space),
// and the kernel is Σ_s exp(−‖a−b‖²/(2s²)) with s ∈ {0.5, 1, 2} × the
// median distance of the pooled 2n views.
//
// The unbiased estimate drops the within-sample diagonals, so its
// expectation is the population MMD² of the two views: 0 when they have
// the same law (single values then scatter around 0 and may be negative),
// which holds, e.g., for two representations whose standardized features
// are uncorrelated and jointly Gaussian, whatever their widths (the views
// are then N(0, I_p) both); correlation structure and shape (tails, modes)
// that differ between Z_i and Z raise it. Standardizing each sample on its
// own fits its mean and variance, which leaves a small negative offset
// (measured for Gaussian views: ≈ −1.3/n, e.g. −0.024 at n = 57 and −0.0026
// at n = 512); it is the same for every run with the same n, so paired
// differences cancel it. The biased estimate used before
// added ≈ 2(3 − E k)/n, a positive offset that shrinks with n, and its
// unstandardized views with N(0, 1/k) entries differed in scale by d_i/d,
// so it never approached 0. Standardizing makes the diagnostic measure the
// shape of the two distributions, not the arbitrary scale of a layer; the
// views differ between seeds, so compare runs of the same seed (paired).
type MMD2Diagnostic struct {
	// MMD2 is the estimate; NaN when refused.
	MMD2 Number `json:"mmd2"`
	// N is the number of rows of each sample, P the view dimension.
	N int `json:"n"`
	P int `json:"p"`
	// Refused says why MMD2 is NaN (fewer than 2 rows, collapsed views).
	Refused string `json:"refused,omitempty"`
}

// ReconstructionDiagnostic is the held-out R² of Z_i reconstructed from
// the concatenation Z_{−i} of the other unimodal representations by ridge
// regression (estimate.HeldOutRidgeR2): 5-fold cross-validation over
// contiguous blocks of the validation split in split order (clips of one
// video stay together), each fold fitted on the other four with Z_{−i}
// standardized (a held-out row's inputs clamped to the fit rows' range, so
// one sparse unit far outside it cannot drive R² to −∞), the penalty λ chosen per fold among
// estimate.DefaultRidgeLambdas (10⁻³ … 10⁴, per sample) by leave-one-out
// error on the fit rows, and
//
//	R² = 1 − Σ ‖z_i − ẑ_i‖² / Σ ‖z_i − z̄_i,fit‖²
//
// pooled over the held-out rows and the columns of Z_i in its own units
// (the share of Z_i's total variance the other modalities predict
// linearly): ≈ 1 when Z_i is a linear function of Z_{−i}, ≈ 0 (or just
// below) when independent of it. Unlike L2's learned Q_i it is linear and
// fitted afresh every epoch, so it measures the representations, not the
// C-network.
type ReconstructionDiagnostic struct {
	// R2 is the held-out R²; NaN when refused.
	R2 Number `json:"r2"`
	// N is the number of validation rows, PIn the columns of Z_{−i}, POut
	// those of Z_i, Folds the K of the cross-validation.
	N     int `json:"n"`
	PIn   int `json:"p_in"`
	POut  int `json:"p_out"`
	Folds int `json:"folds"`
	// Lambdas are the per-sample penalties chosen in the folds.
	Lambdas []float64 `json:"lambdas,omitempty"`
	// Refused says why R2 is NaN (too few rows, Z_i constant).
	Refused string `json:"refused,omitempty"`
}

// diagnosticProjections are the fixed projections of the diagnostics.
type diagnosticProjections struct {
	// mmdUnimodal[i] (d_i×p_i) and mmdFused[i] (d×p_i) are D_i and D̃_i.
	mmdUnimodal, mmdFused []*mat.Dense
	// kurtFused (d×p) and kurtUnimodal[i] (d_i×p) are the kurtosis
	// projections.
	kurtFused    *mat.Dense
	kurtUnimodal []*mat.Dense
}

// newDiagnosticProjections draws them from the run seed's diagnostic
// stream: per modality D_i then D̃_i (k_i = min(mmdDim, d_i, d) columns),
// then the kurtosis projections of Z and of each Z_i (min(kurtDim, d)
// columns). Each is the orthonormal factor Q of the QR decomposition of a
// d×k matrix of N(0, 1) entries: a uniformly random k-dimensional
// orthonormal frame, so a standardized representation with uncorrelated
// features has views of identity covariance whatever d is.
func newDiagnosticProjections(seed uint64, mmdDim, kurtDim int, unimodalDims []int, fusedDim int) *diagnosticProjections {
	s := derivedSeed(seed, streamDiagnostic)
	rng := rand.New(rand.NewPCG(s, mix(s)))
	draw := func(d, k int) *mat.Dense {
		v := make([]float64, d*k)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		var qr mat.QR
		qr.Factorize(mat.NewDense(d, k, v))
		var q mat.Dense
		qr.QTo(&q)
		return mat.DenseCopyOf(q.Slice(0, d, 0, k))
	}
	p := &diagnosticProjections{}
	for _, d := range unimodalDims {
		k := min(mmdDim, d, fusedDim)
		p.mmdUnimodal = append(p.mmdUnimodal, draw(d, k))
		p.mmdFused = append(p.mmdFused, draw(fusedDim, k))
	}
	p.kurtFused = draw(fusedDim, min(kurtDim, fusedDim))
	for _, d := range unimodalDims {
		p.kurtUnimodal = append(p.kurtUnimodal, draw(d, min(kurtDim, d)))
	}
	return p
}

// standardized returns the first rows of z with every column centered and
// divided by its standard deviation (divisor rows) over them; a constant
// column becomes 0.
func standardized(z *mat.Dense, rows int) *mat.Dense {
	_, d := z.Dims()
	out := mat.DenseCopyOf(z.Slice(0, rows, 0, d))
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < rows; i++ {
			mean += out.At(i, j)
		}
		mean /= float64(rows)
		var ss float64
		for i := 0; i < rows; i++ {
			v := out.At(i, j) - mean
			out.Set(i, j, v)
			ss += v * v
		}
		if sd := math.Sqrt(ss / float64(rows)); sd > 0 {
			for i := 0; i < rows; i++ {
				out.Set(i, j, out.At(i, j)/sd)
			}
		}
	}
	return out
}

// projectedKurtosis returns the kurtosis diagnostic of the rows of z in
// the first p = min(k, ⌊n/10⌋) columns of the projection proj (d×k).
func projectedKurtosis(z, proj *mat.Dense) KurtosisDiagnostic {
	n, _ := z.Dims()
	d, k := proj.Dims()
	p := min(k, n/kurtosisRowsPerDim)
	res := KurtosisDiagnostic{B2: NaN(), Ratio: NaN(), N: n, P: p}
	if p < 1 {
		res.Refused = fmt.Sprintf("n = %d < %d: too few samples for even a 1-dimensional kurtosis", n, kurtosisRowsPerDim)
		return res
	}
	var y mat.Dense
	y.Mul(standardized(z, n), proj.Slice(0, d, 0, p))
	b2, err := estimate.MardiaKurtosis(&y)
	if err != nil {
		res.Refused = err.Error()
		return res
	}
	res.B2 = Number(b2)
	res.Ratio = Number(b2 / estimate.MardiaKurtosisGaussianMean(n, p))
	return res
}

// viewMMD2 returns the MMD² diagnostic of the first rows of z and fused in
// the views proj and projF.
func viewMMD2(z, fused, proj, projF *mat.Dense, rows int) MMD2Diagnostic {
	n, _ := z.Dims()
	rows = min(rows, n)
	_, p := proj.Dims()
	m := MMD2Diagnostic{MMD2: NaN(), N: rows, P: p}
	if rows < 2 {
		m.Refused = fmt.Sprintf("n = %d: the unbiased MMD² needs at least 2 rows", rows)
		return m
	}
	var a, b mat.Dense
	a.Mul(standardized(z, rows), proj)
	b.Mul(standardized(fused, rows), projF)
	med, err := estimate.MedianHeuristic(&a, &b)
	if err != nil {
		m.Refused = err.Error()
		return m
	}
	if !(med > 0) {
		m.Refused = fmt.Sprintf("median distance %v: the representations collapsed", med)
		return m
	}
	v, err := estimate.MMD2(&a, &b, estimate.BandwidthsFromMedian(med, nil), true)
	if err != nil {
		m.Refused = err.Error()
		return m
	}
	m.MMD2 = Number(v)
	return m
}

// reconstruction returns the held-out R² diagnostic of unimodal[i] from
// the other unimodal representations.
func reconstruction(unimodal []*mat.Dense, i int) ReconstructionDiagnostic {
	n, q := unimodal[i].Dims()
	var others []*mat.Dense
	p := 0
	for j, z := range unimodal {
		if j != i {
			others = append(others, z)
			_, d := z.Dims()
			p += d
		}
	}
	r := ReconstructionDiagnostic{R2: NaN(), N: n, PIn: p, POut: q, Folds: reconstructionFolds}
	x := mat.NewDense(n, p, nil)
	col := 0
	for _, z := range others {
		_, d := z.Dims()
		x.Slice(0, n, col, col+d).(*mat.Dense).Copy(z)
		col += d
	}
	res, err := estimate.HeldOutRidgeR2(x, unimodal[i], reconstructionFolds, nil)
	if err != nil {
		r.Refused = err.Error()
		return r
	}
	r.R2, r.Lambdas = Number(res.R2), res.Lambdas
	return r
}

// fill sets the kurtosis, MMD² and reconstruction diagnostics of d from
// the validation representations; mmdRows caps the rows of the MMD².
func (p *diagnosticProjections) fill(d *EpochDiagnostics, reps *representations, mmdRows int, reg synergy.Penalty) {
	d.KurtosisFused = projectedKurtosis(reps.fused, p.kurtFused)
	for i, z := range reps.unimodal {
		d.KurtosisUnimodal[i] = projectedKurtosis(z, p.kurtUnimodal[i])
		d.MMD2[i] = viewMMD2(z, reps.fused, p.mmdUnimodal[i], p.mmdFused[i], mmdRows)
		d.Reconstruction[i] = reconstruction(reps.unimodal, i)
	}
	if r, ok := reg.(*synergy.Regularizer); ok {
		d.RegValid = heldOutTerms(r, reps, mmdRows)
	}
}

// heldOutTerms evaluates the regularizer's terms on the first rows of the
// validation representations.
func heldOutTerms(r *synergy.Regularizer, reps *representations, rows int) *HeldOutTerms {
	n, _ := reps.fused.Dims()
	rows = min(rows, n)
	h := &HeldOutTerms{L2: NaN(), D: NaN(), Kappa: NaN(), Total: NaN(), N: rows}
	first := func(m *mat.Dense) *mat.Dense {
		_, c := m.Dims()
		return m.Slice(0, rows, 0, c).(*mat.Dense)
	}
	uni := make([]*mat.Dense, len(reps.unimodal))
	for i, z := range reps.unimodal {
		uni[i] = first(z)
	}
	if rows < 2 {
		h.Refused = fmt.Sprintf("n = %d: the terms need at least 2 rows", rows)
		return h
	}
	v, err := r.Evaluate(uni, first(reps.fused))
	if err != nil {
		h.Refused = err.Error()
		return h
	}
	h.L2, h.D, h.Kappa, h.Total = Number(v.L2), Number(v.D), Number(v.Kappa), Number(v.Total)
	return h
}
