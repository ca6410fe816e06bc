package paper

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
	"github.com/synergo/synergo/viz"
)

// SizeLabel says how large the data of a source is: "full size" for a
// synthetic stand-in at scale 1, "at 25 % of full size" at 0.25, "" for
// real data or a source without a scale.
func SizeLabel(source string) string {
	i := strings.Index(source, "scale=")
	if !strings.HasPrefix(source, "synthetic(") || i < 0 {
		return ""
	}
	s := source[i+len("scale="):]
	if j := strings.IndexAny(s, ",)"); j >= 0 {
		s = s[:j]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return ""
	}
	if v == 1 {
		return "full size"
	}
	return "at " + strconv.FormatFloat(100*v, 'g', 4, 64) + " % of full size"
}

// dataName names the data of recs for a caption: "synthetic MOSI
// stand-in, full size" (DataLabel for real data), names joined by "; ";
// several sources of one name (worlds of the generator's knobs) are
// counted: "synthetic MOSI stand-in, full size (5 generator worlds)".
func dataName(recs []grid.Record) string {
	seen := map[string]bool{}
	worlds := map[string]int{}
	var names []string
	for i := range recs {
		s := recs[i].Source
		if seen[s] {
			continue
		}
		seen[s] = true
		name := DataLabel(s)
		if strings.HasPrefix(s, "synthetic(") {
			name, _, _ = strings.Cut(name, " synthetic(")
			if size := SizeLabel(s); size != "" {
				name += ", " + size
			}
		}
		if worlds[name] == 0 {
			names = append(names, name)
		}
		worlds[name]++
	}
	for i, n := range names {
		if worlds[n] > 1 {
			names[i] = fmt.Sprintf("%s (%d generator worlds)", n, worlds[n])
		}
	}
	return strings.Join(names, "; ")
}

// DataLine is the second line of a figure caption drawn from the reference
// results: the data, the folder, the commit that trained them and the
// counts.
func (r *Reference) DataLine() string {
	return fmt.Sprintf("%s: reference results/reference/%s (%s, commit %s)", dataName(r.Records), r.Name, r.counts(), short(r.Commit))
}

// ReferenceQuantities are the per-epoch diagnostics ReferenceCurve draws:
// validation MAE (accuracy's complement for binary tasks is not drawn; the
// validation MAE of σ(ŷ) is), the projected kurtosis ratio of the fused Z
// and of the unimodal Z_i (mean over modalities), the unbiased MMD² of the
// fixed views of Z_i and Z and the held-out ridge R² of Z_i from Z_{−i}
// (both means over modalities).
func ReferenceQuantities() []string {
	return []string{"valid_mae", "kurtosis_fused", "kurtosis_unimodal", "mmd2_mean", "r2_mean"}
}

// ReferenceCurve draws the per-epoch diagnostic q (ReferenceQuantities, or
// valid_acc for a binary task) of
// model in the reference results name: one curve per training setting
// (NLL, and each regularized setting with its variant), the mean over the
// seeds that ran the epoch (Curves; the legend gives the seed count), with
// a caption naming the quantity, the data, the folder and its commit. It is
// an error when the repository holds no such reference results or none of
// model with a finite q.
func ReferenceCurve(name, model, q string) (*viz.Figure, error) {
	ref, err := LoadReference(name)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, fmt.Errorf("paper: no reference results %q in the repository", name)
	}
	series, err := Curves(ref.Records, model, q)
	if err != nil {
		return nil, err
	}
	data := ref.DataLine() + "; curves: means over the seeds that ran the epoch"
	switch q {
	case "valid_mae":
		return viz.Lines(fmt.Sprintf("reference, %s: validation MAE per epoch\n%s", model, data), "epoch", "validation MAE", series)
	case "valid_acc":
		return viz.Lines(fmt.Sprintf("reference, %s: validation accuracy per epoch (binary task)\n%s", model, data), "epoch", "validation accuracy", series)
	case "kurtosis_fused", "kurtosis_unimodal":
		what := "fused Z"
		if q == "kurtosis_unimodal" {
			what = "unimodal Z_i (mean over modalities)"
		}
		return viz.KurtosisRatioCurves(fmt.Sprintf("reference, %s: Mardia kurtosis ÷ its Gaussian value, %s, fixed projection\n"+
			"validation split, only where n ≥ 10·p (%s); %s", model, what, kurtosisSizes(ref.Records, model, q), data), series)
	case "mmd2_mean":
		return viz.MMDCurves(fmt.Sprintf("reference, %s: unbiased MMD² between fixed views of the standardized Z_i and Z, mean over modalities (validation split)\n%s",
			model, data), series)
	case "r2_mean":
		return viz.Lines(fmt.Sprintf("reference, %s: held-out ridge R² of Z_i from the other Z_j, mean over modalities (validation split)\n%s", model, data),
			"epoch", "R² (5-fold ridge)", series)
	}
	return nil, fmt.Errorf("paper: ReferenceCurve draws %s and valid_acc, not %q", strings.Join(ReferenceQuantities(), ", "), q)
}

// kurtosisSizes lists the sample sizes n and projected dimensions p of the
// kurtosis diagnostic q in model's records ("n = 229, p = 4"), and how
// often and why it was refused (too few samples; a singular covariance,
// i.e. a collapsed representation).
func kurtosisSizes(recs []grid.Record, model, q string) string {
	seen := map[string]bool{}
	var sizes []string
	refused := map[string]int{} // reason → count
	for i := range recs {
		if recs[i].Model != model {
			continue
		}
		for _, d := range recs[i].Diagnostics {
			ks := d.KurtosisUnimodal[:]
			if q == "kurtosis_fused" {
				ks = []train.KurtosisDiagnostic{d.KurtosisFused}
			}
			for _, k := range ks {
				if k.N == 0 || k.P == 0 || math.IsNaN(float64(k.B2)) {
					switch {
					case strings.Contains(k.Refused, "singular"):
						refused["singular covariance (collapsed)"]++
					case strings.Contains(k.Refused, "too few"):
						refused["too few samples"]++
					default:
						refused["not measured"]++
					}
					continue
				}
				s := fmt.Sprintf("n = %d, p = %d", k.N, k.P)
				if !seen[s] {
					seen[s] = true
					sizes = append(sizes, s)
				}
			}
		}
	}
	sort.Strings(sizes)
	out := strings.Join(sizes, "; ")
	if out == "" {
		out = "never"
	}
	reasons := make([]string, 0, len(refused))
	for why, n := range refused {
		reasons = append(reasons, fmt.Sprintf("%d× %s", n, why))
	}
	sort.Strings(reasons)
	if len(reasons) > 0 {
		out += "; left out: " + strings.Join(reasons, ", ")
	}
	return out
}

// ForestRows returns, for the column c of recs' tables (grid.Tables), one
// viz.Interval per model and regularized setting: the mean paired
// difference to NLL of the same data, training setting, model and seed and
// its 95% Student-t interval (grid.Cell's Diff, DiffLo, DiffHi; no
// interval with one pair). Rows without a pair are left out. Labels read
// "model · setting (n pairs)", prefixed by the data when recs hold
// several tables (grid.Tables: several sources or training settings).
func ForestRows(recs []grid.Record, c grid.Column) ([]viz.Interval, error) {
	tables := grid.Tables(recs, []grid.Column{c})
	var out []viz.Interval
	for _, t := range tables {
		prefix := ""
		if len(tables) > 1 {
			prefix = worldLabel(t.Source)
			if t.Setting != "" {
				prefix += " [" + t.Setting + "]"
			}
			prefix += " · "
		}
		for _, r := range t.Rows {
			cell := r.Cells[0]
			if r.Reg == "none" || cell.DiffN == 0 || math.IsNaN(float64(cell.Diff)) {
				continue
			}
			iv := viz.Interval{
				Label:   fmt.Sprintf("%s%s · %s (%d pairs)", prefix, r.Model, r.Reg, cell.DiffN),
				Setting: baseSetting(r.Reg), Mean: float64(cell.Diff), Lo: float64(cell.DiffLo), Hi: float64(cell.DiffHi),
			}
			if cell.DiffN == 1 {
				iv.Label = fmt.Sprintf("%s%s · %s (1 pair, no interval)", prefix, r.Model, r.Reg)
			}
			if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
				iv.Lo, iv.Hi = math.NaN(), math.NaN()
			}
			out = append(out, iv)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("paper: no regularized run is paired with an NLL run of the same seed")
	}
	return out, nil
}

// baseSetting is a row label without the configuration grid.Tables
// appends to rows of one label whose configurations differ:
// "mmd (paper) (beta=0.1, standardize=true)" → "mmd (paper)". Rows of one
// base setting share a colour and a legend entry.
func baseSetting(label string) string {
	if i := strings.LastIndex(label, " ("); i > 0 && strings.HasSuffix(label, ")") && strings.Contains(label[i:], "=") {
		return label[:i]
	}
	return label
}

// worldLabel is the short name of a synthetic source's world
// ("mosi, scale=1, shared=0.5"), or the source.
func worldLabel(source string) string {
	s, ok := strings.CutPrefix(source, "synthetic(")
	if !ok {
		return source
	}
	s = strings.TrimSuffix(s, ")")
	var parts []string
	for _, p := range strings.Split(s, ", ") {
		switch {
		case strings.HasPrefix(p, "preset="):
			parts = append(parts, strings.TrimPrefix(p, "preset="))
		case strings.HasPrefix(p, "seed="), strings.HasPrefix(p, "scale="):
		default:
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// columnWhat names a column's paired difference for an axis label:
// "Δ test MAE (setting − NLL)", "Δ Acc2 non0 −T, test with T dropped
// (setting − NLL)", "Δ κ(Z)/Gauss, validation at the selected epoch
// (setting − NLL)".
func columnWhat(c grid.Column) string {
	switch c.Split {
	case "test":
		return fmt.Sprintf("Δ test %s (setting − NLL)", c.Name)
	case grid.DiagnosticSplit:
		return fmt.Sprintf("Δ %s, validation at the selected epoch (setting − NLL)", c.Name)
	}
	return fmt.Sprintf("Δ %s, test with %s dropped (setting − NLL)", c.Name, c.Split)
}

// ReferenceForest draws the forest plot of column c of the reference
// results name (ForestRows): per model and regularized setting, the mean
// paired difference to NLL over seeds with its 95% Student-t interval,
// captioned with the data, the folder, its commit and the seed counts.
func ReferenceForest(name string, c grid.Column) (*viz.Figure, error) {
	ref, err := LoadReference(name)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, fmt.Errorf("paper: no reference results %q in the repository", name)
	}
	rows, err := ForestRows(ref.Records, c)
	if err != nil {
		return nil, fmt.Errorf("%w in %s", err, ref.Dir)
	}
	unit := ""
	if c.Percent {
		unit = ", points of %"
	}
	caption := fmt.Sprintf("reference: paired Δ %s vs NLL (same seed), mean and 95%% Student-t interval over seeds%s\n%s", c.Name, unit, ref.DataLine())
	return viz.Intervals(caption, columnWhat(c), "model · setting (paired seeds)", rows)
}
