package synergy_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/nn"
)

// A toy two-layer fusion model on random three-modality data, trained with
// the synergy regularizer on: the model's AdamW follows ∇(L_task + β·L_reg),
// the C-network's AdamW (η_MI) follows ∇L_reg, and all three terms fall.
func Example() {
	const batch, steps = 32, 150
	rng := rand.New(rand.NewPCG(1, 1))
	inDims := []int{6, 5, 4}
	repDim := 8

	// Data: a shared latent drives every modality; the label depends on it.
	const n = 256
	x := make([][]float64, len(inDims))
	mix := make([][]float64, len(inDims))
	for m, d := range inDims {
		mix[m] = make([]float64, 2*d)
		for j := range mix[m] {
			mix[m][j] = rng.NormFloat64()
		}
		x[m] = make([]float64, n*d)
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		l1, l2 := rng.NormFloat64(), rng.NormFloat64()
		y[i] = math.Tanh(l1 + 0.5*l2)
		for m, d := range inDims {
			for j := 0; j < d; j++ {
				x[m][i*d+j] = mix[m][2*j]*l1 + mix[m][2*j+1]*l2 + 0.3*rng.NormFloat64()/math.Sqrt(rng.ExpFloat64())
			}
		}
	}

	// The model: Z_i = tanh(x_i W_i), Z = tanh(concat(Z_i) W_f), ŷ = Z w.
	ps := nn.NewParamSet(tensor.Float64)
	var enc []*nn.Linear
	for m, d := range inDims {
		enc = append(enc, nn.NewLinear(ps, fmt.Sprintf("enc%d", m), d, repDim, true, rng))
	}
	fuse := nn.NewLinear(ps, "fuse", 3*repDim, repDim, true, rng)
	head := nn.NewLinear(ps, "head", repDim, 1, true, rng)

	cfg := synergy.DefaultConfig(synergy.DivergenceMMD)
	cfg.Beta, cfg.GammaKappa, cfg.LearningRateMI = 1, 1, 3e-3
	reg, err := synergy.New(cfg, []int{repDim, repDim, repDim}, repDim, tensor.Float64)
	if err != nil {
		fmt.Println(err)
		return
	}

	g := nn.NewGraph(tensor.Float64, true)
	var inputs, zs []*G.Node
	for m, d := range inDims {
		in := g.Input(fmt.Sprintf("x%d", m), batch, d)
		h, _ := enc[m].Forward(g, in)
		inputs = append(inputs, in)
		zs = append(zs, G.Must(G.Tanh(h)))
	}
	fh, _ := fuse.Forward(g, G.Must(G.Concat(1, zs...)))
	z := G.Must(G.Tanh(fh))
	pred, _ := head.Forward(g, z)
	target := g.Input("y", batch, 1)
	task := G.Must(G.Mean(G.Must(G.Abs(G.Must(G.Sub(pred, target))))))

	att, err := reg.Attach(g, zs, z)
	if err != nil {
		fmt.Println(err)
		return
	}
	cost, _ := att.Objective(task)
	all := append(append([]*nn.Param{}, ps.Params()...), reg.Params().Params()...)
	if _, err := G.Grad(cost, g.ParamNodes(all)...); err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(all)...))
	defer vm.Close()
	modelOpt := nn.NewAdamW(1e-2)

	var first, last synergy.TermValues
	for step := 0; step < steps; step++ {
		idx := rng.Perm(n)[:batch]
		for m, d := range inDims {
			v := make([]float64, batch*d)
			for b, i := range idx {
				copy(v[b*d:(b+1)*d], x[m][i*d:(i+1)*d])
			}
			_ = G.Let(inputs[m], tensor.New(tensor.WithShape(batch, d), tensor.WithBacking(v)))
		}
		t := make([]float64, batch)
		for b, i := range idx {
			t[b] = y[i]
		}
		_ = G.Let(target, tensor.New(tensor.WithShape(batch, 1), tensor.WithBacking(t)))
		if err := att.Feed(); err != nil {
			fmt.Println(err)
			return
		}
		if err := vm.RunAll(); err != nil {
			fmt.Println(err)
			return
		}
		// The C-network's update (η_MI on ∇L_reg), then the model's.
		if err := att.Step(); err != nil {
			fmt.Println(err)
			return
		}
		grads, _ := g.Grads(ps.Params())
		nn.ClipGradValue(grads, 5)
		if err := modelOpt.Step(ps.Params(), grads); err != nil {
			fmt.Println(err)
			return
		}
		_ = g.ZeroGrads(ps.Params())
		if err := att.AfterStep(); err != nil {
			fmt.Println(err)
			return
		}
		v := att.Values()
		// Average the terms over the first and last 30 steps (L_κ starts
		// at step 2, once a covariance exists).
		switch {
		case step >= 1 && step <= 30:
			first = addValues(first, v, 1.0/30)
		case step >= steps-30:
			last = addValues(last, v, 1.0/30)
		}
		vm.Reset()
	}
	fmt.Println("C-network optimizer steps:", reg.Steps())
	fmt.Println("model optimizer steps:", modelOpt.Steps())
	fmt.Println("L2 falls:", last.L2 < first.L2)
	fmt.Println("L_d falls:", last.D < first.D)
	fmt.Println("L_kappa falls:", last.Kappa < first.Kappa)
	// Output:
	// C-network optimizer steps: 150
	// model optimizer steps: 150
	// L2 falls: true
	// L_d falls: true
	// L_kappa falls: true
}

func addValues(acc, v synergy.TermValues, w float64) synergy.TermValues {
	acc.L2 += w * v.L2
	acc.D += w * v.D
	acc.Kappa += w * v.Kappa
	acc.Total += w * v.Total
	return acc
}
