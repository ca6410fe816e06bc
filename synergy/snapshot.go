package synergy

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// Snapshot is the synergy regularizer on one batch as its graph computed
// it: the representations, the C-network's outputs, the kernel widths, the
// moving covariances before and after the batch and the terms — everything
// the formulas of §2.2, §4.1 and appendix D need to recompute L_L2, L_d,
// L_κ and L_reg from outside. Fields of switched-off terms are empty.
// Matrices are float64 copies of the graph's values (float32 graphs are
// converted exactly).
type Snapshot struct {
	// Config is the regularizer's configuration.
	Config Config
	// Unimodal and Fused are the model's representations Z_i (B×d_i, in the
	// order given to New) and Z (B×d).
	Unimodal []*mat.Dense
	Fused    *mat.Dense
	// StandardizedUnimodal and StandardizedFused are the batch-standardized
	// representations the terms saw (Config.Standardize only).
	StandardizedUnimodal []*mat.Dense
	StandardizedFused    *mat.Dense
	// Reconstructions are Q_i(Z_{−i}) (B×d_i), per modality (L_L2).
	Reconstructions []*mat.Dense
	// FlowUnimodal and FlowFused are g_i(R_i Z_i) and g_i(R̃_i Z) (B×k),
	// per modality (L_d).
	FlowUnimodal, FlowFused []*mat.Dense
	// CriticUnimodal and CriticFused are the KL critic T_i on the two
	// samples (length B), per modality (KL only).
	CriticUnimodal, CriticFused [][]float64
	// Bandwidths are the widths σ_s of k(a,b) = Σ_s exp(−‖a−b‖²/(2σ_s²)) the
	// graph was fed, per modality (MMD only).
	Bandwidths [][]float64
	// Kurtosis holds one entry per L_κ target: the fused representation
	// first (KurtosisFused), then each unimodal one (KurtosisUnimodal).
	Kurtosis []KurtosisSnapshot
	// Alpha is the decay fed with S_{t−1}: 0 before the first update, α
	// after.
	Alpha float64
	// L2, D, Kappa and Total are the unweighted terms and
	// L_reg = γ_L2·L2 + γ_d·D + γ_κ·Kappa as the graph computed them (NaN
	// when off).
	L2, D, Kappa, Total float64
	// L2Parts and DParts are the terms' per-modality parts, KappaParts
	// L_κ's per-target parts (in Kurtosis's order), which L2, D and Kappa
	// add up (Config.Reduction: their sum, or their mean with ReduceUnit);
	// empty when the term is off.
	L2Parts, DParts, KappaParts []float64
}

// KurtosisSnapshot is one L_κ target of a Snapshot.
type KurtosisSnapshot struct {
	// Target is −1 for the fused representation, i for Z_i.
	Target int
	// Prev is S_{t−1}, the moving covariance fed with this batch; Next is
	// S_t, after folding the batch in (the covariance L_κ used).
	Prev, Next *mat.Dense
	// Clip is the clip threshold τ the op used (0 without clipping); Load
	// the diagonal load c.
	Clip, Load float64
}

// Snapshot returns the regularizer on the batch of the last run of the
// graph a is attached to (call it after the run and before Step, which
// moves the carried state on). It returns an error for an attachment of
// the I_Was baseline or before a run.
func (a *Attachment) Snapshot() (*Snapshot, error) {
	r, ok := a.penalty.(*Regularizer)
	if !ok {
		return nil, fmt.Errorf("synergy: a snapshot is of the synergy regularizer, not %T", a.penalty)
	}
	v := a.Values()
	s := &Snapshot{Config: r.cfg, L2: v.L2, D: v.D, Kappa: v.Kappa, Total: v.Total}
	var err error
	matrix := func(n *G.Node) *mat.Dense {
		if err != nil {
			return nil
		}
		var m *mat.Dense
		m, err = a.matrix(n)
		return m
	}
	matrices := func(ns []*G.Node) []*mat.Dense {
		out := make([]*mat.Dense, len(ns))
		for i, n := range ns {
			out[i] = matrix(n)
		}
		return out
	}
	s.Fused, s.Unimodal = matrix(a.rawFused), matrices(a.rawUnimodal)
	if r.cfg.Standardize {
		s.StandardizedFused, s.StandardizedUnimodal = matrix(a.fused), matrices(a.unimodal)
	}
	s.Reconstructions = matrices(a.recon)
	B := a.batch
	for _, n := range a.flowOut {
		pooled := matrix(n)
		if err != nil {
			break
		}
		k := pooled.RawMatrix().Cols
		s.FlowUnimodal = append(s.FlowUnimodal, mat.DenseCopyOf(pooled.Slice(0, B, 0, k)))
		s.FlowFused = append(s.FlowFused, mat.DenseCopyOf(pooled.Slice(B, 2*B, 0, k)))
	}
	for _, n := range a.critic {
		t := matrix(n)
		if err != nil {
			break
		}
		col := mat.Col(nil, 0, t)
		s.CriticUnimodal = append(s.CriticUnimodal, col[:B])
		s.CriticFused = append(s.CriticFused, col[B:])
	}
	if err != nil {
		return nil, fmt.Errorf("synergy: snapshot: %w", err)
	}
	for _, inv := range a.kernelInv {
		widths := make([]float64, len(inv))
		for j, n := range inv {
			c, err := scalarValue(n.Value())
			if err != nil {
				return nil, fmt.Errorf("synergy: snapshot: bandwidth: %w", err)
			}
			widths[j] = 1 / math.Sqrt(2*c)
		}
		s.Bandwidths = append(s.Bandwidths, widths)
	}
	for _, p := range []struct {
		nodes []*G.Node
		into  *[]float64
	}{{a.L2Parts, &s.L2Parts}, {a.DParts, &s.DParts}, {a.KappaParts, &s.KappaParts}} {
		for _, n := range p.nodes {
			v, err := scalarValue(a.value(n))
			if err != nil {
				return nil, fmt.Errorf("synergy: snapshot: term part: %w", err)
			}
			*p.into = append(*p.into, v)
		}
	}
	for ti, k := range a.kurtosis {
		p := r.cov[ti].Dim()
		prev, err := valueMatrix(a.covPrev[ti], a.covFeed[ti])
		if err != nil {
			return nil, fmt.Errorf("synergy: snapshot: kurtosis target %d: %w", ti, err)
		}
		next := mat.NewDense(p, p, nil)
		if err := k.Covariance(next.RawMatrix().Data); err != nil {
			return nil, fmt.Errorf("synergy: snapshot: %w", err)
		}
		s.Kurtosis = append(s.Kurtosis, KurtosisSnapshot{Target: r.targets[ti], Prev: prev, Next: next, Clip: k.ClipThreshold(), Load: k.DiagonalLoad()})
		if ti == 0 {
			if s.Alpha, err = scalarValue(a.covAlpha[ti].Value()); err != nil {
				return nil, fmt.Errorf("synergy: snapshot: decay: %w", err)
			}
		}
	}
	return s, nil
}

// scalarValue returns the float64 of a scalar value.
func scalarValue(v G.Value) (float64, error) {
	if v == nil {
		return 0, fmt.Errorf("no value (feed the graph first)")
	}
	switch d := v.Data().(type) {
	case float64:
		return d, nil
	case float32:
		return float64(d), nil
	}
	return 0, fmt.Errorf("value of type %T, want a float scalar", v.Data())
}

// NamedArray is one array of a Snapshot's file form: a name, a shape
// (empty for a scalar) and row-major float64 values; or, for the key
// "config", Text.
type NamedArray struct {
	Name  string
	Shape []int
	Data  []float64
	Text  string
}

// Arrays returns the snapshot as named arrays, the layout `synergo reg
// dump` writes to .npz (i indexes the modalities in the model's order):
//
//	z_{i} (B×d_i), z_fused (B×d)                the model's representations
//	zs_{i}, zs_fused                            their batch standardizations (Standardize only)
//	q_{i} (B×d_i)                               Q_i(Z_{−i}) (L_L2)
//	gu_{i}, gf_{i} (B×k)                        g_i(R_i Z_i), g_i(R̃_i Z) (L_d)
//	tp_{i}, tq_{i} (B)                          the KL critic on the two samples (KL only)
//	bandwidths_{i} (S)                          the kernel widths σ_s (MMD only)
//	s_prev_fused, s_new_fused (d×d)             the moving covariance before and after this batch (κ on Z)
//	s_prev_{i}, s_new_{i} (d_i×d_i)             the same for Z_i (κ on Z_i)
//	clip_fused, clip_{i}, diag_c_fused, diag_c_{i}   the clip threshold τ and the load c each κ target used
//	clip, diag_c                                the configured clip (ClipNorm, or ClipFactor when relative) and load (DiagLoadAbsolute, or DiagLoad when relative)
//	alpha, gamma_l2, gamma_d, gamma_kappa, beta the decay fed with s_prev and the weights
//	l2, d, kappa, total                         the terms and L_reg as the graph computed them (NaN when off)
//	l2_parts, d_parts (M), kappa_parts (T)      the terms' parts per modality and per κ target, which l2, d and kappa sum (reduction sum or mean) or average (unit); absent when off
//	config                                      the Config as JSON (a string, every field: Config.AllFields)
func (s *Snapshot) Arrays() ([]NamedArray, error) {
	var out []NamedArray
	dense := func(name string, m *mat.Dense) {
		if m == nil {
			return
		}
		r, c := m.Dims()
		out = append(out, NamedArray{Name: name, Shape: []int{r, c}, Data: mat.DenseCopyOf(m).RawMatrix().Data})
	}
	vector := func(name string, v []float64) {
		out = append(out, NamedArray{Name: name, Shape: []int{len(v)}, Data: append([]float64(nil), v...)})
	}
	scalar := func(name string, v float64) {
		out = append(out, NamedArray{Name: name, Shape: []int{}, Data: []float64{v}})
	}
	name := func(prefix string, target int) string {
		if target < 0 {
			return prefix + "_fused"
		}
		return fmt.Sprintf("%s_%d", prefix, target)
	}
	for i, z := range s.Unimodal {
		dense(name("z", i), z)
	}
	dense("z_fused", s.Fused)
	for i, z := range s.StandardizedUnimodal {
		dense(name("zs", i), z)
	}
	dense("zs_fused", s.StandardizedFused)
	for i, q := range s.Reconstructions {
		dense(name("q", i), q)
	}
	for i := range s.FlowUnimodal {
		dense(name("gu", i), s.FlowUnimodal[i])
		dense(name("gf", i), s.FlowFused[i])
	}
	for i := range s.CriticUnimodal {
		vector(name("tp", i), s.CriticUnimodal[i])
		vector(name("tq", i), s.CriticFused[i])
	}
	for i, b := range s.Bandwidths {
		vector(name("bandwidths", i), b)
	}
	for _, p := range []struct {
		name  string
		parts []float64
	}{{"l2_parts", s.L2Parts}, {"d_parts", s.DParts}, {"kappa_parts", s.KappaParts}} {
		if len(p.parts) > 0 {
			vector(p.name, p.parts)
		}
	}
	for _, k := range s.Kurtosis {
		dense(name("s_prev", k.Target), k.Prev)
		dense(name("s_new", k.Target), k.Next)
		scalar(name("clip", k.Target), k.Clip)
		scalar(name("diag_c", k.Target), k.Load)
	}
	c := s.Config
	clip, load := c.ClipNorm, c.DiagLoadAbsolute
	if c.ClipFactor > 0 {
		clip = c.ClipFactor
	}
	if c.DiagLoad > 0 {
		load = c.DiagLoad
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"clip", clip}, {"diag_c", load}, {"alpha", s.Alpha},
		{"gamma_l2", c.GammaL2}, {"gamma_d", c.GammaD}, {"gamma_kappa", c.GammaKappa}, {"beta", c.Beta},
		{"l2", s.L2}, {"d", s.D}, {"kappa", s.Kappa}, {"total", s.Total},
	} {
		scalar(f.name, f.v)
	}
	fields, err := c.AllFields()
	if err != nil {
		return nil, fmt.Errorf("synergy: snapshot config: %w", err)
	}
	cfg, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("synergy: snapshot config: %w", err)
	}
	out = append(out, NamedArray{Name: "config", Text: string(cfg)})
	return out, nil
}
