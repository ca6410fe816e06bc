package explore

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/train"
)

// Modalities names the modalities in the order of Snapshot's slices.
var Modalities = []string{"text", "audio", "vision"}

// MinSamplesPerDim is how many samples per dimension a Mardia kurtosis
// estimate needs here: with n samples in p dimensions the statistic
// (computed under the sample's own covariance) cannot exceed about (n−1)²
// and sits near that bound for heavy tails unless n ≫ p, so Kurtosis is
// estimated only for n ≥ 10p.
const MinSamplesPerDim = 10

// Snapshot is a model measured on the test split — data no run trained on
// or selected with.
type Snapshot struct {
	// N is the number of test samples.
	N int
	// Fused is Z (N×d) and Unimodal the Z_t, Z_a, Z_v (N×d_i), from the
	// evaluation graph (train.Trainer.Representations).
	Fused    *mat.Dense
	Unimodal []*mat.Dense
	// Terms are the regularizer's unweighted terms on the test split,
	// computed as in training — the run's own C-network attached to the
	// N rows as one batch, with its moving covariances and kernel
	// bandwidths as training left them — NaN without a regularizer and
	// for the terms it has off.
	Terms synergy.TermValues
	// MeanPredictorL2 is the L2 a reconstruction that always predicts the
	// mean would score on these rows, in the unit of the configuration's
	// reduction: Σ_i Σ_j var(ẑ_ij) over the coordinates j of the targets
	// ẑ_i Q_i sees (standardized when the configuration standardizes: then
	// about Σ_i d_i), times N when it sums over the batch (ReduceSum), or
	// the mean over i of the mean over j with per-unit terms (ReduceUnit:
	// about 1 standardized): the scale Terms.L2 is read against.
	MeanPredictorL2 float64
	// Lens are the g_i outputs through the lens — the initialized
	// C-network of L_d alone, the same map for every snapshot, so that
	// lens views differ only by the model. Own are those through the
	// run's own C-network, trained with the model (nil when the run has no
	// L_d).
	Lens Flows
	Own  *Flows
	// KurtosisFused and KurtosisUnimodal are Mardia's kurtosis of Z and
	// of each Z_i.
	KurtosisFused    Kurtosis
	KurtosisUnimodal []Kurtosis
	// CanonicalCorrelation[i] is the first canonical correlation between
	// Z_i and the other two representations side by side: the directions
	// are fitted on the training split (stat.CC), the correlation of the
	// projected test rows is reported. It measures how well the most
	// predictable direction of Z_i can be predicted linearly from the
	// others on unseen data — a fixed probe, the same for every run, not
	// the regularizer's own Q_i.
	CanonicalCorrelation []float64
}

// Flows are, for each modality i, the two samples L_d compares on the
// test split, g_i(R_i Z_i) and g_i(R̃_i Z) (N×k each), and their MMD² in
// all k dimensions: the biased estimator with Gaussian kernels at {0.5, 1,
// 2} × the median distance of the pooled sample (estimate.MMD2).
type Flows struct {
	Unimodal, Fused []*mat.Dense
	MMD2            []float64
}

// Kurtosis is Mardia's multivariate kurtosis of n samples in p dimensions
// (a Gaussian gives p(p+2)), NaN when n < MinSamplesPerDim·p or when the
// samples' covariance is singular (Singular; e.g. a ReLU unit that is 0 on
// every sample).
type Kurtosis struct {
	Value    float64
	N, P     int
	Singular bool
}

// Gaussian returns p(p+2), the kurtosis of a p-dimensional Gaussian.
func (k Kurtosis) Gaussian() float64 { return float64(k.P * (k.P + 2)) }

// String returns e.g. "95.3 (n = 274, p = 8; Gaussian 80)", or says why
// the value was not estimated.
func (k Kurtosis) String() string {
	switch {
	case k.Singular:
		return fmt.Sprintf("not estimated (n = %d, p = %d: singular covariance)", k.N, k.P)
	case math.IsNaN(k.Value):
		return fmt.Sprintf("not estimated (n = %d < %dp = %d)", k.N, MinSamplesPerDim, MinSamplesPerDim*k.P)
	}
	return fmt.Sprintf("%.1f (n = %d, p = %d; Gaussian %g)", k.Value, k.N, k.P, k.Gaussian())
}

// mardia returns the Kurtosis of the rows of x.
func mardia(x *mat.Dense) Kurtosis {
	n, p := x.Dims()
	k := Kurtosis{Value: math.NaN(), N: n, P: p}
	if n < MinSamplesPerDim*p {
		return k
	}
	v, err := estimate.MardiaKurtosis(x)
	if err != nil {
		// MardiaKurtosis fails only on a singular covariance (n ≥ 10p ≥ 2
		// finite rows here).
		k.Singular = true
		return k
	}
	k.Value = v
	return k
}

// takeSnapshot measures the trainer's current model on ds.Test, with the
// g_i of lens and, if the trainer has one, its own regularizer.
func takeSnapshot(ds *datasets.Dataset, tr *train.Trainer, lens *synergy.Regularizer) (*Snapshot, error) {
	fused, uni, err := tr.Representations(ds.Test)
	if err != nil {
		return nil, err
	}
	_, trainUni, err := tr.Representations(ds.Train)
	if err != nil {
		return nil, err
	}
	nan := math.NaN()
	s := &Snapshot{N: ds.Test.Len(), Fused: fused, Unimodal: uni, KurtosisFused: mardia(fused),
		Terms: synergy.TermValues{L2: nan, D: nan, Kappa: nan, Total: nan, Was: nan}, MeanPredictorL2: nan}
	lensOut, err := attachHeldOut(lens, uni, fused)
	if err != nil {
		return nil, fmt.Errorf("explore: the lens: %w", err)
	}
	if s.Lens, err = flowsOf(lensOut, len(uni)); err != nil {
		return nil, err
	}
	if own, ok := tr.Regularizer().(*synergy.Regularizer); ok {
		a, err := attachHeldOut(own, uni, fused)
		if err != nil {
			return nil, err
		}
		s.Terms = a.Values()
		cfg := own.Config()
		s.MeanPredictorL2 = meanPredictorL2(uni, cfg.Standardize, cfg.Reduction)
		if cfg.UseD {
			f, err := flowsOf(a, len(uni))
			if err != nil {
				return nil, err
			}
			s.Own = &f
		}
	}
	for i, z := range uni {
		cc, err := canonicalCorrelation(trainUni, uni, i)
		if err != nil {
			return nil, fmt.Errorf("explore: canonical correlation of Z_%s: %w", Modalities[i], err)
		}
		s.KurtosisUnimodal = append(s.KurtosisUnimodal, mardia(z))
		s.CanonicalCorrelation = append(s.CanonicalCorrelation, cc)
	}
	return s, nil
}

// attachHeldOut attaches reg to a forward-only graph whose representations
// are the given rows (one batch), feeds it its current state and runs it:
// the attachment then holds the terms (Attachment.Values) and the g_i
// outputs (Attachment.FlowOutputs) of these rows, computed exactly as in
// training. Nothing of reg changes (no Step). A graph gorgonia would
// compile wrongly (nn.HashCollisionError) is built again, at most
// maxGraphBuilds times, as the trainer does.
func attachHeldOut(reg *synergy.Regularizer, unimodal []*mat.Dense, fused *mat.Dense) (*synergy.Attachment, error) {
	for build := 1; ; build++ {
		a, err := attachHeldOutOnce(reg, unimodal, fused)
		var hc *nn.HashCollisionError
		if !errors.As(err, &hc) || build == maxGraphBuilds {
			return a, err
		}
	}
}

// maxGraphBuilds bounds the builds of attachHeldOut (a hash collision has
// a chance of about 1e-4 per build; a new build draws new hashes).
const maxGraphBuilds = 3

func attachHeldOutOnce(reg *synergy.Regularizer, unimodal []*mat.Dense, fused *mat.Dense) (*synergy.Attachment, error) {
	g := nn.NewGraph(tensor.Float32, false)
	node := func(x *mat.Dense) *G.Node {
		r, c := x.Dims()
		return g.Constant(mat.DenseCopyOf(x).RawMatrix().Data, r, c)
	}
	nodes := make([]*G.Node, len(unimodal))
	for i, z := range unimodal {
		nodes[i] = node(z)
	}
	a, err := reg.Attach(g, nodes, node(fused))
	if err != nil {
		return nil, err
	}
	if err := a.Feed(); err != nil {
		return nil, err
	}
	vm, err := nn.CompileTapeMachine(g.G)
	if err != nil {
		return nil, fmt.Errorf("explore: the regularizer on held-out data: %w", err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("explore: the regularizer on held-out data: %w", err)
	}
	return a, nil
}

// flowsOf reads the g_i outputs of an attachment with L_d and their MMD².
func flowsOf(a *synergy.Attachment, modalities int) (Flows, error) {
	var f Flows
	for i := 0; i < modalities; i++ {
		u, v, err := a.FlowOutputs(i)
		if err != nil {
			return Flows{}, err
		}
		mmd, err := heldOutMMD2(u, v)
		if err != nil {
			return Flows{}, fmt.Errorf("explore: MMD² of %s: %w", Modalities[i], err)
		}
		f.Unimodal, f.Fused, f.MMD2 = append(f.Unimodal, u), append(f.Fused, v), append(f.MMD2, mmd)
	}
	return f, nil
}

// standardizeEps is the ε of the regularizer's batch standardization
// ẑ = (z − μ)/√(σ² + ε) (terms.Standardize).
const standardizeEps = 1e-5

// meanPredictorL2 returns the L2 of predicting every target coordinate by
// its mean, ẑ_i = Z_i standardized (σ²/(σ² + ε) per coordinate) or as is,
// reduced as r reduces L2: Σ_i Σ_j var(ẑ_ij) (ReduceMean), N times that
// (ReduceSum, N rows), or (1/M) Σ_i (1/d_i) Σ_j var(ẑ_ij) over the M
// modalities (ReduceUnit).
func meanPredictorL2(unimodal []*mat.Dense, standardized bool, r synergy.Reduction) float64 {
	var total float64
	for _, z := range unimodal {
		n, d := z.Dims()
		_, variance := columnMeanVar(z)
		var part float64
		for _, v := range variance {
			if standardized {
				v /= v + standardizeEps
			}
			part += v
		}
		switch r {
		case synergy.ReduceSum:
			part *= float64(n)
		case synergy.ReduceUnit:
			part /= float64(d) * float64(len(unimodal))
		}
		total += part
	}
	return total
}

// heldOutMMD2 is the biased MMD² between x and y with kernels at
// estimate.DefaultBandwidthMultipliers × their pooled median distance.
func heldOutMMD2(x, y *mat.Dense) (float64, error) {
	med, err := estimate.MedianHeuristic(x, y)
	if err != nil {
		return math.NaN(), err
	}
	if !(med > 0) {
		return math.NaN(), fmt.Errorf("median distance %v (collapsed samples)", med)
	}
	return estimate.MMD2(x, y, estimate.BandwidthsFromMedian(med, nil), false)
}

// canonicalCorrelation fits the first pair of canonical directions
// between the representations of fit other than i (side by side) and
// fit[i], and returns the absolute correlation of eval's rows projected on
// them.
func canonicalCorrelation(fit, eval []*mat.Dense, i int) (float64, error) {
	others := func(reps []*mat.Dense) *mat.Dense {
		var parts []*mat.Dense
		for m, z := range reps {
			if m != i {
				parts = append(parts, z)
			}
		}
		return concatColumns(parts)
	}
	var cc stat.CC
	if err := cc.CanonicalCorrelations(others(fit), fit[i], nil); err != nil {
		return math.NaN(), err
	}
	var left, right mat.Dense
	cc.LeftTo(&left, true)
	cc.RightTo(&right, true)
	var a, b mat.VecDense
	a.MulVec(others(eval), left.ColView(0))
	b.MulVec(eval[i], right.ColView(0))
	return math.Abs(stat.Correlation(a.RawVector().Data, b.RawVector().Data, nil)), nil
}

// concatColumns puts matrices with the same rows side by side.
func concatColumns(parts []*mat.Dense) *mat.Dense {
	rows, cols := parts[0].RawMatrix().Rows, 0
	for _, p := range parts {
		cols += p.RawMatrix().Cols
	}
	out := mat.NewDense(rows, cols, nil)
	at := 0
	for _, p := range parts {
		_, c := p.Dims()
		out.Slice(0, rows, at, at+c).(*mat.Dense).Copy(p)
		at += c
	}
	return out
}

// columnMeanVar returns the mean and the (biased) variance of each column.
func columnMeanVar(x *mat.Dense) (mean, variance []float64) {
	n, d := x.Dims()
	mean, variance = make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		for i := 0; i < n; i++ {
			mean[j] += x.At(i, j)
		}
		mean[j] /= float64(n)
		for i := 0; i < n; i++ {
			c := x.At(i, j) - mean[j]
			variance[j] += c * c
		}
		variance[j] /= float64(n)
	}
	return mean, variance
}
