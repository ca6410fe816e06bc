package synergy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/nn"
)

// toyModel is a small fusion model for the dump test: Z_i = tanh(X_i W_i)
// and Z = tanh(concat(Z_i) W_f), trained on L_task = mean(Z·1)² + β·L_reg.
type toyModel struct {
	ps      *nn.ParamSet
	inDims  []int
	dims    []int
	fused   int
	weights []*nn.Param
	fusedW  *nn.Param
}

func newToyModel(dt tensor.Dtype, inDims, dims []int, fused int, rng *rand.Rand) *toyModel {
	m := &toyModel{ps: nn.NewParamSet(dt), inDims: inDims, dims: dims, fused: fused}
	total := 0
	for i, d := range dims {
		m.weights = append(m.weights, m.ps.Add(fmt.Sprintf("w%d", i), []int{inDims[i], d}, nn.Normal(1/math.Sqrt(float64(inDims[i]))), rng))
		total += d
	}
	m.fusedW = m.ps.Add("wf", []int{total, fused}, nn.Normal(1/math.Sqrt(float64(total))), rng)
	return m
}

// toyGraph is one training graph of the toy model with the regularizer.
type toyGraph struct {
	g      *nn.Graph
	inputs []*G.Node
	att    *synergy.Attachment
	vm     G.VM
	params []*nn.Param
}

func (m *toyModel) graph(t *testing.T, reg *synergy.Regularizer, batch int) *toyGraph {
	t.Helper()
	g := nn.NewGraph(m.ps.Dtype(), true)
	tg := &toyGraph{g: g}
	var uni []*G.Node
	for i, w := range m.weights {
		x := g.Input(fmt.Sprintf("x%d", i), batch, m.inDims[i])
		tg.inputs = append(tg.inputs, x)
		uni = append(uni, G.Must(G.Tanh(G.Must(G.Mul(x, g.Param(w))))))
	}
	fused := G.Must(G.Tanh(G.Must(G.Mul(G.Must(G.Concat(1, uni...)), g.Param(m.fusedW)))))
	att, err := reg.Attach(g, uni, fused)
	if err != nil {
		t.Fatal(err)
	}
	tg.att = att
	task := G.Must(G.Square(G.Must(G.Mean(fused))))
	cost, err := att.Objective(task)
	if err != nil {
		t.Fatal(err)
	}
	tg.params = append(append([]*nn.Param{}, m.ps.Params()...), reg.Params().Params()...)
	if _, err := G.Grad(cost, g.ParamNodes(tg.params)...); err != nil {
		t.Fatal(err)
	}
	tg.vm = nn.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(tg.params)...))
	return tg
}

// run feeds a random batch and runs the graph.
func (tg *toyGraph) run(t *testing.T, rng *rand.Rand) {
	t.Helper()
	for _, x := range tg.inputs {
		s := x.Shape()
		v := make([]float64, s[0]*s[1])
		for i := range v {
			v[i] = rng.NormFloat64() + 0.3*float64(i%3)
		}
		if err := G.Let(x, tensorOf(tg.g.Dtype, s, v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.att.Feed(); err != nil {
		t.Fatal(err)
	}
	tg.vm.Reset()
	if err := tg.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

func tensorOf(dt tensor.Dtype, shape tensor.Shape, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// step takes the regularizer's step and a plain gradient step of the
// model.
func (m *toyModel) step(t *testing.T, tg *toyGraph) {
	t.Helper()
	if err := tg.att.Step(); err != nil {
		t.Fatal(err)
	}
	grads, err := tg.g.Grads(m.ps.Params())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.ps.Params() {
		v, gr := p.Float64s(), grads[i]
		for j := range v {
			var gj float64
			switch d := gr.Data().(type) {
			case []float64:
				gj = d[j]
			case []float32:
				gj = float64(d[j])
			}
			v[j] -= 0.01 * gj
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
		gr.Zero()
	}
}

// dumpNames returns the names `synergo reg dump` promises for a config
// and modality count: exactly the keys the file must hold.
func dumpNames(cfg synergy.Config, modalities int) []string {
	names := []string{"z_fused", "clip", "diag_c", "alpha", "gamma_l2", "gamma_d", "gamma_kappa", "beta", "l2", "d", "kappa", "total", "config", "l2_parts", "d_parts", "kappa_parts"}
	targets := []string{"fused"}
	for i := 0; i < modalities; i++ {
		names = append(names, fmt.Sprintf("z_%d", i), fmt.Sprintf("q_%d", i), fmt.Sprintf("gu_%d", i), fmt.Sprintf("gf_%d", i))
		if cfg.Divergence == synergy.DivergenceMMD {
			names = append(names, fmt.Sprintf("bandwidths_%d", i))
		} else {
			names = append(names, fmt.Sprintf("tp_%d", i), fmt.Sprintf("tq_%d", i))
		}
		targets = append(targets, fmt.Sprint(i))
	}
	for _, t := range targets {
		names = append(names, "s_prev_"+t, "s_new_"+t, "clip_"+t, "diag_c_"+t)
		if cfg.Standardize {
			names = append(names, "zs_"+t)
		}
	}
	slices.Sort(names)
	return names
}

// TestDumpRecomputedByNumPy trains the toy model a few steps with each
// variant, divergence, modality count and dtype, dumps the regularizer on
// the next batch and has testdata/recompute_regularizer.py recompute the
// terms and their per-modality and per-target parts from the file with
// NumPy: they must match the graph to 1e-9 (float64) or 1e-4 (float32)
// relative, and the file must hold exactly the documented arrays.
func TestDumpRecomputedByNumPy(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy is not available (make fixtures installs python3-numpy): %v", python, err)
	}
	dir := t.TempDir()
	if d := os.Getenv("SYNERGO_KEEP_DUMPS"); d != "" {
		dir = d
	}
	type dumpCase struct {
		name       string
		cfg        synergy.Config
		modalities int
		tol        float64
	}
	var cases []dumpCase
	for _, v := range []synergy.Variant{synergy.VariantPaper, synergy.VariantStable} {
		for _, d := range []synergy.Divergence{synergy.DivergenceMMD, synergy.DivergenceKL} {
			for _, k := range []int{2, 3} {
				for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
					cfg := synergy.VariantConfig(v, d)
					cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 8, 8, 8, 4
					tol := 1e-9
					if dt == tensor.Float32 {
						tol = 1e-4
					}
					name := fmt.Sprintf("%v-%v-%d-%v", v, d, k, dt)
					cases = append(cases, dumpCase{name, cfg, k, tol})
					path := filepath.Join(dir, name+".npz")
					writeToyDump(t, cfg, k, dt, path)
				}
			}
		}
	}
	// The stable variant's reduction before per-unit terms (ReduceMean),
	// which records written then ran.
	for _, d := range []synergy.Divergence{synergy.DivergenceMMD, synergy.DivergenceKL} {
		cfg := synergy.StableConfig(d)
		cfg.Reduction = synergy.ReduceMean
		cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 8, 8, 8, 4
		name := fmt.Sprintf("stable-mean-%v-3-float64", d)
		cases = append(cases, dumpCase{name, cfg, 3, 1e-9})
		writeToyDump(t, cfg, 3, tensor.Float64, filepath.Join(dir, name+".npz"))
	}
	var args []string
	for _, c := range cases {
		args = append(args, filepath.Join(dir, c.name+".npz"))
	}
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "recompute_regularizer.py")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("recompute_regularizer.py: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		c := cases[i]
		i++
		var got struct {
			L2          *float64 `json:"l2"`
			D           *float64 `json:"d"`
			Kappa       *float64 `json:"kappa"`
			Total       *float64 `json:"total"`
			GraphL2     *float64 `json:"graph_l2"`
			GraphD      *float64 `json:"graph_d"`
			GraphKappa  *float64 `json:"graph_kappa"`
			GraphTotal  *float64 `json:"graph_total"`
			SNewRelErr  float64  `json:"s_new_rel_err"`
			PartsRelErr *float64 `json:"parts_rel_err"`
			ZsAbsErr    *float64 `json:"zs_abs_err"`
			Keys        []string `json:"keys"`
		}
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if want := dumpNames(c.cfg, c.modalities); !slices.Equal(got.Keys, want) {
			t.Errorf("%s: arrays %v\nwant exactly %v", c.name, got.Keys, want)
		}
		for _, term := range []struct {
			name         string
			numpy, graph *float64
		}{{"l2", got.L2, got.GraphL2}, {"d", got.D, got.GraphD}, {"kappa", got.Kappa, got.GraphKappa}, {"total", got.Total, got.GraphTotal}} {
			if term.numpy == nil || term.graph == nil {
				t.Errorf("%s: %s missing (numpy %v, graph %v)", c.name, term.name, term.numpy, term.graph)
				continue
			}
			e := math.Abs(*term.numpy-*term.graph) / math.Max(math.Abs(*term.graph), 1e-300)
			t.Logf("%s: %s graph %.10g numpy %.10g (rel %.2g)", c.name, term.name, *term.graph, *term.numpy, e)
			if e > c.tol {
				t.Errorf("%s: %s: graph %.17g, numpy %.17g (rel %.3g > %g)", c.name, term.name, *term.graph, *term.numpy, e, c.tol)
			}
		}
		if got.PartsRelErr == nil || *got.PartsRelErr > c.tol {
			t.Errorf("%s: the dumped per-modality and per-target parts differ from NumPy's by %v (relative)", c.name, got.PartsRelErr)
		}
		if got.SNewRelErr > c.tol {
			t.Errorf("%s: the dumped S_t differs from the recursion by %.3g (relative)", c.name, got.SNewRelErr)
		}
		if c.cfg.Standardize && (got.ZsAbsErr == nil || *got.ZsAbsErr > 10*c.tol) {
			t.Errorf("%s: the dumped standardized representations differ from NumPy's by %v", c.name, got.ZsAbsErr)
		}
	}
	if i != len(cases) {
		t.Fatalf("the script reported %d dumps, want %d\n%s", i, len(cases), stderr.String())
	}
}

// writeToyDump trains the toy model two steps with cfg and writes the
// snapshot of the third batch to path.
func writeToyDump(t *testing.T, cfg synergy.Config, modalities int, dt tensor.Dtype, path string) {
	t.Helper()
	const batch = 12
	rng := rand.New(rand.NewPCG(uint64(modalities), 3))
	inDims, dims := []int{6, 5, 7}[:modalities], []int{4, 3, 5}[:modalities]
	m := newToyModel(dt, inDims, dims, 6, rng)
	reg, err := synergy.New(cfg, dims, 6, dt)
	if err != nil {
		t.Fatal(err)
	}
	tg := m.graph(t, reg, batch)
	defer tg.vm.Close()
	for step := 0; step < 2; step++ {
		tg.run(t, rng)
		m.step(t, tg)
	}
	tg.run(t, rng)
	snap, err := tg.att.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := snap.Arrays()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]datasets.NPZArray, len(arrays))
	for i, a := range arrays {
		out[i] = datasets.NPZArray(a)
	}
	if err := datasets.SaveArraysNPZ(path, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
