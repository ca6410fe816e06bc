package explore

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/paper"
	"github.com/synergo/synergo/viz"
)

// subscripts are the short names of the modalities in formulas (Z_t, g_a).
var subscripts = []string{"t", "a", "v"}

// modalityIndex returns the position of a modality name in Modalities.
func modalityIndex(name string) (int, error) {
	for i, m := range Modalities {
		if m == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("explore: unknown modality %q (want text, audio or vision)", name)
}

// unimodalDims are the sizes of Z_t, Z_a, Z_v of an LMF.
func unimodalDims(c models.LMFConfig) []int { return []int{c.TextOut, c.AudioHidden, c.VisionHidden} }

// DataLine names what produced the study's numbers: the data, the model,
// the regularizer variant, the seed and the epochs (every caption's
// second line).
func (s *Study) DataLine() string {
	o := s.Options
	return fmt.Sprintf("%s · LMF %d-d · regularizer: %s variant · seed %d · %d epochs",
		o.Data.Source, o.Model.FusedDim, o.Base.Variant, o.Seed, o.Epochs)
}

// records returns the runs' results as grid records (for paper.Curves).
func (s *Study) records() []grid.Record {
	recs := make([]grid.Record, len(s.Runs))
	for i, r := range s.Runs {
		recs[i].RunResult = *r.Result
	}
	return recs
}

// TermCurves plots one term of the regularizer per epoch — "l2", "d" or
// "kappa", unweighted, averaged over the epoch's training batches — for
// the runs that have it switched on (alone and with the other two).
func (s *Study) TermCurves(term string) (*viz.Figure, error) {
	var title, yLabel, note string
	o := s.Options
	switch term {
	case "l2":
		title = "L2, the reconstruction term, per epoch"
		yLabel = "L2 (unweighted)"
	case "d":
		title = fmt.Sprintf("L_d, the divergence term (%s), per epoch", o.Base.Divergence)
		yLabel = "L_d (unweighted)"
	case "kappa":
		title = "L_κ, the kurtosis term, per epoch"
		yLabel = "L_κ (unweighted)"
		d := unimodalDims(o.Model)
		note = fmt.Sprintf("batches of n = %d rows, p = %d (Z), %d, %d, %d (Z_t, Z_a, Z_v): the training signal, not a kurtosis estimate · ",
			o.BatchSize, o.Model.FusedDim, d[0], d[1], d[2])
	default:
		return nil, fmt.Errorf("explore: unknown term %q (want l2, d or kappa)", term)
	}
	series, err := paper.Curves(s.records(), modelName, "reg_"+term)
	if err != nil {
		return nil, err
	}
	caption := title + " (training batches, mean over the epoch)\n" + note + s.DataLine()
	return viz.Lines(caption, "epoch", yLabel, series)
}

// DiagnosticCurves plots a per-epoch diagnostic of every run (a quantity
// of paper.Quantities computed on the validation split, or train_loss).
// Kurtosis is refused where the validation split has fewer than
// MinSamplesPerDim·p samples.
func (s *Study) DiagnosticCurves(q string) (*viz.Figure, error) {
	series, err := paper.Curves(s.records(), modelName, q)
	if err != nil {
		return nil, err
	}
	n := s.Options.Data.Valid.Len()
	data := s.DataLine()
	switch {
	case q == "valid_mae":
		return viz.Lines("validation MAE per epoch\n"+data, "epoch", "validation MAE", series)
	case q == "train_loss":
		return viz.Lines("training task loss per epoch (mean over the epoch's batches)\n"+data, "epoch", "training task loss", series)
	case strings.HasPrefix(q, "mmd2_"):
		which := strings.TrimPrefix(q, "mmd2_")
		if which == "mean" {
			which = "mean over the modalities"
		}
		caption := fmt.Sprintf("MMD² between fixed random projections D_i Z_i and D̃_i Z per epoch, %s\n%d validation samples, k = %d; the same projections for every run, no g_i · %s",
			which, n, diagnosticDim, data)
		return viz.MMDCurves(caption, series)
	case strings.HasPrefix(q, "kurtosis_"):
		which := strings.TrimPrefix(q, "kurtosis_")
		p := s.Options.Model.FusedDim
		if i, err := modalityIndex(which); err == nil {
			p = unimodalDims(s.Options.Model)[i]
		}
		if n < MinSamplesPerDim*p {
			return nil, fmt.Errorf("explore: kurtosis of %d-dimensional representations from %d validation samples: want n ≥ %dp = %d", p, n, MinSamplesPerDim, MinSamplesPerDim*p)
		}
		name := "the fused Z"
		if which != "fused" {
			name = "Z_" + which
		}
		caption := fmt.Sprintf("Mardia kurtosis of %s per epoch (dashed: a Gaussian's, p(p+2) = %d)\nn = %d validation samples, p = %d · %s", name, p*(p+2), n, p, data)
		return viz.KurtosisCurves(caption, series, float64(p*(p+2)))
	}
	return nil, fmt.Errorf("explore: DiagnosticCurves(%q): want valid_mae, train_loss, mmd2_* or kurtosis_*", q)
}

// snapshot returns the Before snapshot for "before", else the After
// snapshot of the run with that label.
func (s *Study) snapshot(label string) (*Snapshot, error) {
	if label == "before" {
		return s.Before, nil
	}
	if r := s.RunOf(label); r != nil {
		return r.After, nil
	}
	labels := []string{"before"}
	for _, r := range s.Runs {
		labels = append(labels, r.Setting.Label)
	}
	return nil, fmt.Errorf("explore: no run %q (have %s)", label, strings.Join(labels, ", "))
}

// FlowView draws a 2-D view of the two samples L_d compares for one
// modality, g_i(R_i Z_i) and g_i(R̃_i Z), on the test split: "before"
// training or after the run with the given label, through the run's own
// g_i (own true; the run must have L_d) or through the lens (own false).
// The view is the first two principal components of the pooled 2N points:
// the two directions in which they vary most, nothing of the other k − 2
// dimensions; the caption gives the MMD² in all k.
func (s *Study) FlowView(label, modality string, own bool) (*viz.Figure, error) {
	snap, err := s.snapshot(label)
	if err != nil {
		return nil, err
	}
	i, err := modalityIndex(modality)
	if err != nil {
		return nil, err
	}
	flows, lens := &snap.Lens, "the lens (g_i at initialization, no training)"
	if own && label != "before" {
		if snap.Own == nil {
			return nil, fmt.Errorf("explore: run %s has no L_d, so no g_i of its own; draw it through the lens", label)
		}
		flows, lens = snap.Own, "g_i trained in this run"
	}
	u, f := flows.Unimodal[i], flows.Fused[i]
	n, k := u.Dims()
	pooled := mat.NewDense(2*n, k, nil)
	pooled.Slice(0, n, 0, k).(*mat.Dense).Copy(u)
	pooled.Slice(n, 2*n, 0, k).(*mat.Dense).Copy(f)
	var pc stat.PC
	if !pc.PrincipalComponents(pooled, nil) {
		return nil, fmt.Errorf("explore: principal components of the %s g_i outputs failed", modality)
	}
	var vecs, view mat.Dense
	pc.VectorsTo(&vecs)
	view.Mul(pooled, vecs.Slice(0, k, 0, 2))
	sub := subscripts[i]
	uni := viz.Series{Name: fmt.Sprintf("unimodal: g_%s(R_%s Z_%s)", sub, sub, sub)}
	fused := viz.Series{Name: fmt.Sprintf("fused: g_%s(R̃_%s Z)", sub, sub)}
	for r := 0; r < 2*n; r++ {
		c := &uni
		if r >= n {
			c = &fused
		}
		c.X = append(c.X, view.At(r, 0))
		c.Y = append(c.Y, view.At(r, 1))
	}
	when := "before training"
	if label != "before" {
		when = "after training with " + label
	}
	caption := fmt.Sprintf("%s: g_%s(R_%s Z_%s) against g_%s(R̃_%s Z), %s\n%d test samples through %s; MMD² in all %d dims %.3f · %s",
		modality, sub, sub, sub, sub, sub, when, n, lens, k, flows.MMD2[i], s.DataLine())
	return viz.Scatter(caption, "principal component 1 of the pooled points", "principal component 2 of the pooled points",
		[]viz.Series{uni, fused})
}

// Tails plots how heavy the tails of the fused representation are on the
// test split, for "before" and the runs with the given labels: the share
// of rows whose squared Mahalanobis distance d² = (z − z̄)ᵀ S⁻¹ (z − z̄)
// (S the rows' own covariance) exceeds t, on a log scale, beside the
// Gaussian's (d² ~ χ²_p). Mardia's kurtosis is the mean of d⁴; heavier
// tails put the curve above the Gaussian's at large t. A sample of n rows
// shows no share below 1/n.
func (s *Study) Tails(labels ...string) (*viz.Figure, error) {
	var series []viz.Series
	var kurt []string
	p, n := 0, 0
	maxD2 := 0.0
	for _, l := range labels {
		snap, err := s.snapshot(l)
		if err != nil {
			return nil, err
		}
		d2, err := squaredMahalanobis(snap.Fused)
		if err != nil {
			return nil, fmt.Errorf("explore: %s: %w", l, err)
		}
		sort.Float64s(d2)
		n, p = snap.Fused.Dims()
		ser := viz.Series{Name: l}
		for j := 0; j < n-1; j++ {
			ser.X = append(ser.X, d2[j])
			ser.Y = append(ser.Y, math.Log10(float64(n-1-j)/float64(n)))
		}
		maxD2 = math.Max(maxD2, d2[n-1])
		series = append(series, ser)
		kurt = append(kurt, fmt.Sprintf("%s %.1f", l, snap.KurtosisFused.Value))
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("explore: Tails needs at least one label")
	}
	chi := distuv.ChiSquared{K: float64(p)}
	gauss := viz.Series{Name: fmt.Sprintf("Gaussian: d² ~ χ²_%d", p)}
	for j := 0; j <= 200; j++ {
		t := maxD2 * float64(j) / 200
		sv := chi.Survival(t)
		if sv < 0.5/float64(n) {
			break
		}
		gauss.X = append(gauss.X, t)
		gauss.Y = append(gauss.Y, math.Log10(sv))
	}
	series = append(series, gauss)
	caption := fmt.Sprintf("tails of the fused Z on held-out data: share of rows beyond each squared Mahalanobis distance\nMardia kurtosis (mean d⁴): %s; Gaussian %d (n = %d, p = %d) · %s",
		strings.Join(kurt, ", "), p*(p+2), n, p, s.DataLine())
	return viz.Lines(caption, "t, squared Mahalanobis distance under the sample covariance", "log10 share of test rows with d² > t", series)
}

// squaredMahalanobis returns (z_j − z̄)ᵀ S⁻¹ (z_j − z̄) for every row of x,
// S the rows' covariance (divided by n, as Mardia's statistic uses).
func squaredMahalanobis(x *mat.Dense) ([]float64, error) {
	n, p := x.Dims()
	mean, _ := columnMeanVar(x)
	centered := mat.NewDense(n, p, nil)
	centered.Apply(func(_, j int, v float64) float64 { return v - mean[j] }, x)
	var cov mat.SymDense
	cov.SymOuterK(1/float64(n), centered.T())
	var chol mat.Cholesky
	if !chol.Factorize(&cov) {
		return nil, fmt.Errorf("the covariance of the %d×%d representation is singular", n, p)
	}
	out := make([]float64, n)
	var sol mat.VecDense
	for j := 0; j < n; j++ {
		row := centered.RowView(j)
		if err := chol.SolveVecTo(&sol, row); err != nil {
			return nil, err
		}
		out[j] = mat.Dot(row, &sol)
	}
	return out, nil
}

// PredictabilityBars draws Snapshot.CanonicalCorrelation — how well the
// most predictable direction of each Z_i is predicted linearly from the
// other two on the test split — before training and after every run.
func (s *Study) PredictabilityBars() (*viz.Figure, error) {
	groups := make([]string, len(Modalities))
	for i, sub := range subscripts {
		var from []string
		for m, o := range subscripts {
			if m != i {
				from = append(from, "Z_"+o)
			}
		}
		groups[i] = fmt.Sprintf("Z_%s from %s", sub, strings.Join(from, ", "))
	}
	series := []viz.BarSeries{{Name: "before training", Mean: s.Before.CanonicalCorrelation}}
	for _, r := range s.Runs {
		series = append(series, viz.BarSeries{Name: r.Setting.Label, Mean: r.After.CanonicalCorrelation})
	}
	caption := fmt.Sprintf("how predictable each representation is from the other two: first canonical correlation\ndirections fitted on the training split, correlation on %d test samples · %s", s.Before.N, s.DataLine())
	return viz.GroupedBars(caption, "representation", "held-out first canonical correlation", groups, series)
}

// Table summarizes the study on the test split: per run (and before
// training) the test MAE of the selected epoch, the regularizer's terms
// on the test rows, the MMD² of the g_i outputs through the lens and
// through the run's own g_i, Mardia's kurtosis of Z and the first
// canonical correlations.
func (s *Study) Table() viz.Table {
	t := viz.Table{
		Title: "what each term changed, on the test split (" + s.DataLine() + ")",
		Header: []string{"setting", "test MAE (epoch)", "L2 held out (mean predictor)", "L_d held out", "L_κ held out",
			"MMD² of g_i outputs through the lens (t / a / v)", "… through the run's own g_i",
			"Mardia kurtosis of Z", "first canonical correlation (t / a / v)"},
		Note: fmt.Sprintf("Held out: the %d test rows as one batch through the run's own C-network as training left it (the before row: the initialized C-network of L_d alone); "+
			"\"mean predictor\" is the L2 of predicting every coordinate by its mean. MMD²: biased, kernels at {0.5, 1, 2} × the median distance, all %d dims of g_i's output; "+
			"the lens is the initialized C-network of L_d alone, the same map for every row. Kurtosis: a Gaussian's is p(p+2), estimated only where n ≥ %dp. "+
			"One seed: differences between rows are not tested for significance.",
			s.Before.N, s.Options.Base.ProjectionDim, MinSamplesPerDim),
	}
	num := func(v float64, format string) string {
		if math.IsNaN(v) {
			return "–"
		}
		return fmt.Sprintf(format, v)
	}
	row := func(label, mae string, snap *Snapshot) []string {
		own := "–"
		if snap.Own != nil && label != "before training" {
			own = triple(snap.Own.MMD2, "%.3f")
		}
		l2 := num(snap.Terms.L2, "%.2f")
		if l2 != "–" {
			l2 += " (" + num(snap.MeanPredictorL2, "%.2f") + ")"
		}
		return []string{label, mae, l2, num(snap.Terms.D, "%.3f"), num(snap.Terms.Kappa, "%.2f"),
			triple(snap.Lens.MMD2, "%.3f"), own, snap.KurtosisFused.String(), triple(snap.CanonicalCorrelation, "%.2f")}
	}
	t.Rows = append(t.Rows, row("before training", "–", s.Before))
	for _, r := range s.Runs {
		mae := fmt.Sprintf("%.3f (%d)", float64(r.Result.Test["MAE"]), r.Result.BestEpoch)
		t.Rows = append(t.Rows, row(r.Setting.Label, mae, r.After))
	}
	return t
}

// triple formats three numbers as "a / b / c".
func triple(v []float64, format string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, " / ")
}
