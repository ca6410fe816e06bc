package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func tinyMISA(t testing.TB, dt tensor.Dtype, diffWeight float64) *MISA {
	t.Helper()
	return tinyMISAHidden(t, dt, diffWeight, 6)
}

// tinyMISAHidden is tinyMISA with the given Hidden width.
func tinyMISAHidden(t testing.TB, dt tensor.Dtype, diffWeight float64, hidden int) *MISA {
	t.Helper()
	cfg, err := DefaultMISAConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bert = tinyBertText()
	cfg.Hidden, cfg.TransformerFF, cfg.DiffWeight = hidden, 10, diffWeight
	m, err := NewMISA(cfg, tinyDims, dt, 4)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cmdReference is CMD computed directly from its definition in float64.
func cmdReference(x, y [][]float64, moments int) float64 {
	n, d := len(x), len(x[0])
	mean := func(a [][]float64, f func(v float64) float64) []float64 {
		out := make([]float64, d)
		for _, row := range a {
			for j, v := range row {
				out[j] += f(v) / float64(n)
			}
		}
		return out
	}
	dist := func(a, b []float64) float64 {
		s := 0.0
		for j := range a {
			s += (a[j] - b[j]) * (a[j] - b[j])
		}
		return math.Sqrt(s)
	}
	mx, my := mean(x, func(v float64) float64 { return v }), mean(y, func(v float64) float64 { return v })
	total := dist(mx, my)
	for k := 2; k <= moments; k++ {
		cx, cy := make([][]float64, n), make([][]float64, n)
		for i := range x {
			cx[i], cy[i] = make([]float64, d), make([]float64, d)
			for j := range x[i] {
				cx[i][j] = math.Pow(x[i][j]-mx[j], float64(k))
				cy[i][j] = math.Pow(y[i][j]-my[j], float64(k))
			}
		}
		id := func(v float64) float64 { return v }
		total += dist(mean(cx, id), mean(cy, id))
	}
	return total
}

// TestCMDValueAndGradient compares CMD with a direct float64 computation and
// checks its gradient by finite differences.
func TestCMDValueAndGradient(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	rng := rand.New(rand.NewPCG(4, 4))
	xp := ps.Add("x", []int{5, 3}, nn.Normal(1), rng)
	yp := ps.Add("y", []int{5, 3}, nn.Normal(0.7), rng)
	eval := nn.NewGraph(tensor.Float64, false)
	value, err := centralMomentDiscrepancy(eval.Param(xp), eval.Param(yp), cmdMoments)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eval.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	cmd, err := centralMomentDiscrepancy(g.Param(xp), g.Param(yp), cmdMoments)
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, cmd, []*nn.Param{xp, yp}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CMD: worst relative error %.2e over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("CMD gradient: %+v", res)
	}
	rows := func(p *nn.Param) [][]float64 {
		v := p.Float64s()
		out := make([][]float64, p.Shape[0])
		for i := range out {
			out[i] = v[i*p.Shape[1] : (i+1)*p.Shape[1]]
		}
		return out
	}
	want := cmdReference(rows(xp), rows(yp), cmdMoments)
	if got := values(value)[0]; math.Abs(got-want) > 1e-12*math.Max(1, want) {
		t.Errorf("CMD = %v, direct computation %v", got, want)
	}
}

// softOrthogonalityFixedNorms is MISA's DiffLoss in float64 with the row
// norms given (the original detaches them).
func softOrthogonalityFixedNorms(x, y []float64, n, d int, nx, ny []float64) float64 {
	centre := func(a []float64, norms []float64) []float64 {
		out := make([]float64, len(a))
		for j := 0; j < d; j++ {
			m := 0.0
			for i := 0; i < n; i++ {
				m += a[i*d+j] / float64(n)
			}
			for i := 0; i < n; i++ {
				out[i*d+j] = (a[i*d+j] - m) / (norms[i] + 1e-6)
			}
		}
		return out
	}
	xc, yc := centre(x, nx), centre(y, ny)
	s := 0.0
	for j := 0; j < d; j++ {
		for k := 0; k < d; k++ {
			c := 0.0
			for i := 0; i < n; i++ {
				c += xc[i*d+j] * yc[i*d+k]
			}
			s += c * c
		}
	}
	return s / float64(d*d)
}

func centredRowNorms(a []float64, n, d int) []float64 {
	out := make([]float64, n)
	for j := 0; j < d; j++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += a[i*d+j] / float64(n)
		}
		for i := 0; i < n; i++ {
			out[i] += (a[i*d+j] - m) * (a[i*d+j] - m)
		}
	}
	for i := range out {
		out[i] = math.Sqrt(out[i])
	}
	return out
}

// TestSoftOrthogonality compares the value with a direct computation and
// the gradient with finite differences taken with the row norms held at
// their current values (they are detached, as in the original).
func TestSoftOrthogonality(t *testing.T) {
	const n, d = 4, 3
	ps := nn.NewParamSet(tensor.Float64)
	rng := rand.New(rand.NewPCG(6, 6))
	xp := ps.Add("x", []int{n, d}, nn.Normal(1), rng)
	yp := ps.Add("y", []int{n, d}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, false)
	loss, err := softOrthogonality(g, g.Param(xp), g.Param(yp))
	if err != nil {
		t.Fatal(err)
	}
	nodes := g.ParamNodes([]*nn.Param{xp, yp})
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	x, y := xp.Float64s(), yp.Float64s()
	nx, ny := centredRowNorms(x, n, d), centredRowNorms(y, n, d)
	if got, want := values(loss)[0], softOrthogonalityFixedNorms(x, y, n, d, nx, ny); math.Abs(got-want) > 1e-14 {
		t.Errorf("L_diff = %v, direct computation %v", got, want)
	}
	grads, err := g.Grads([]*nn.Param{xp, yp})
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	worst := 0.0
	for k, v := range [][]float64{x, y} {
		an := grads[k].Data().([]float64)
		for j := range v {
			orig := v[j]
			v[j] = orig + h
			fp := softOrthogonalityFixedNorms(x, y, n, d, nx, ny)
			v[j] = orig - h
			fm := softOrthogonalityFixedNorms(x, y, n, d, nx, ny)
			v[j] = orig
			num := (fp - fm) / (2 * h)
			worst = math.Max(worst, math.Abs(num-an[j])/math.Max(1e-3, math.Abs(num)))
		}
	}
	t.Logf("L_diff: worst relative error %.2e", worst)
	if worst > 1e-6 {
		t.Errorf("L_diff gradient with detached norms: worst relative error %.2e", worst)
	}
}

// TestMISAGradCheck checks the parameters of MISA (see gradCheckSubset)
// with the soft-
// orthogonality weight at 0 (its detached norms make finite differences
// of the full loss differ by design; it is checked on its own above). The
// cost includes Aux (CMD and reconstruction).
func TestMISAGradCheck(t *testing.T) {
	// At Hidden 64, gorgonia's G.Concat of the six private and shared
	// vectors gave wrong gradients: its gradient slices of ∂L/∂y hash
	// their bounds modulo 256 and the graph merges the ones that agree
	// (see nn's TestConcatWideBlocksGetTheirOwnGradient), so some vectors
	// received another's block. The error reached the audio and vision
	// encoders, project_*, private_a and shared (max relative error 1.9,
	// measured) and moved MISA's golden metrics by ≈4e−2 (Hidden 128);
	// at Hidden 6 no bounds collide. nn.Concat replaced it. Measured with nn.Concat: 5.2e−7
	// (Hidden 6) and 8.2e−6 (Hidden 64, finite-difference error at that
	// width), hence the bounds.
	for _, tc := range []struct {
		hidden int
		bound  float64
	}{{6, 1e-5}, {64, 1e-4}} {
		hidden := tc.hidden
		t.Run(fmt.Sprintf("hidden%d", hidden), func(t *testing.T) {
			const batch = 3
			m := tinyMISAHidden(t, tensor.Float64, 0, hidden)
			rng := rand.New(rand.NewPCG(31, 32))
			b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
			g := nn.NewGraph(tensor.Float64, true)
			out, err := m.Build(g, batch)
			if err != nil {
				t.Fatal(err)
			}
			if out.Aux == nil || len(out.Unimodal) != 3 || out.Fused.Shape()[1] != 3*m.cfg.Hidden {
				t.Fatalf("output: %+v", out)
			}
			cost, err := G.Add(sumAll(t, out), out.Aux)
			if err != nil {
				t.Fatal(err)
			}
			feed := func() error {
				if err := m.Feed(g, b); err != nil {
					return err
				}
				return g.SampleMasks(rand.New(rand.NewPCG(2, 2)))
			}
			res, err := nn.GradCheck(g, cost, gradCheckSubset(m.Params()), nn.GradCheckOptions{MaxPerParam: 2, Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("misa: max rel err %.2e over %d entries (worst %s[%d]: analytic %.6g, numeric %.6g)",
				res.MaxRelErr, res.Checked, res.Param, res.Index, res.Analytic, res.Numeric)
			if res.MaxRelErr > tc.bound {
				t.Errorf("misa gradient check: %+v", res)
			}
		})
	}
}

// TestMISABidirectionalEncoderIgnoresPadding: changing padded frames leaves
// the utterance vectors (and so every output) unchanged.
func TestMISABidirectionalEncoderIgnoresPadding(t *testing.T) {
	m := tinyMISA(t, tensor.Float64, 0.3)
	rng := rand.New(rand.NewPCG(5, 5))
	b := withTokens(rng, randomBatch(rng, m.dims, 3), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	_, out1 := forward(t, m, b)
	z1 := values(out1.Unimodal[1])
	a := b.Features[1]
	changed := false
	for i := 0; i < a.N; i++ {
		for s := a.Lengths[i]; s < a.T; s++ {
			for d := 0; d < a.D; d++ {
				a.Data[(i*a.T+s)*a.D+d] = 7
				changed = true
			}
		}
	}
	if !changed {
		t.Fatal("no padding in the audio batch")
	}
	_, out2 := forward(t, m, b)
	if d := maxDiff(z1, values(out2.Unimodal[1])); d > 1e-12 {
		t.Errorf("padding changed Z_a by %g", d)
	}
	// A valid frame does change it.
	a.Data[0] += 1
	_, out3 := forward(t, m, b)
	if d := maxDiff(z1, values(out3.Unimodal[1])); d < 1e-9 {
		t.Errorf("a valid frame changed Z_a by only %g", d)
	}
}

func maxDiff(a, b []float64) float64 {
	w := 0.0
	for i := range a {
		w = math.Max(w, math.Abs(a[i]-b[i]))
	}
	return w
}

// TestMISATrains: AdamW steps on one batch make MISA fit the batch's six
// labels, to an L1 loss below half that of the best constant prediction
// (the median label; measured 0.026, with OpenBLAS 0.101, vs 0.694). The
// auxiliary losses and dropout are off: on six samples L_sim (CMD),
// L_diff and L_recon are all minimized by representations that do not
// depend on the sample, and with the defaults' weights AdamW finds that
// collapse (L1 ends at the best constant's 0.694); with dropout 0.5 on the
// 6-wide head the loss is dominated by mask noise, and whether one noisy
// step lands below a threshold depends on the BLAS's rounding (the former
// criterion, final < 0.7 × first loss, failed with OpenBLAS). The
// auxiliary losses' gradients are checked in TestMISAGradCheck and against
// PyTorch in TestMISALossesAgainstPyTorch.
func TestMISATrains(t *testing.T) {
	cfg := tinyMISA(t, tensor.Float32, 0).cfg
	cfg.SimWeight, cfg.ReconWeight = 0, 0
	cfg.Dropout, cfg.TransformerDropout = 0, 0
	m, err := NewMISA(cfg, tinyDims, tensor.Float32, 4)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	b := withTokens(rng, randomBatch(rng, m.dims, 6), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	losses := trainSteps(t, m, b, 60, 3e-3)
	constant := bestConstantL1(b.Labels)
	last := losses[len(losses)-1]
	t.Logf("misa L1 loss: %.4f → %.4f (best constant prediction: %.4f)", losses[0], last, constant)
	if !(last < 0.5*constant) {
		t.Errorf("L1 loss went from %.4f to %.4f; want below half the best constant's %.4f", losses[0], last, constant)
	}
}

// bestConstantL1 is the L1 loss of the best constant prediction, the
// median of labels: mean |y − median|.
func bestConstantL1(labels []float32) float64 {
	s := make([]float64, len(labels))
	for i, y := range labels {
		s[i] = float64(y)
	}
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	var l float64
	for _, y := range s {
		l += math.Abs(y - med)
	}
	return l / float64(len(s))
}
