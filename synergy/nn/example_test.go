package nn_test

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// ExampleMLP fits y = x₁ − 2x₂ on four points with a small MLP and plain
// gradient descent: one graph, one machine, gradients read with Grads and
// cleared with ZeroGrads after every step.
func ExampleMLP() {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := nn.NewParamSet(tensor.Float64)
	mlp := nn.NewMLP(ps, "mlp", []int{2, 8, 1}, nn.Tanh, rng)

	g := nn.NewGraph(tensor.Float64, true)
	x := g.Input("x", 4, 2)
	y := g.Input("y", 4, 1)
	pred, err := mlp.Forward(g, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	loss := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(pred, y))))))

	params := ps.Params()
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(loss, nodes...); err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()

	xs := []float64{0, 0, 1, 0, 0, 1, 1, 1}
	ys := []float64{0, 1, -2, -1}
	_ = G.Let(x, tensor.New(tensor.WithShape(4, 2), tensor.WithBacking(xs)))
	_ = G.Let(y, tensor.New(tensor.WithShape(4, 1), tensor.WithBacking(ys)))

	const lr = 0.1
	for step := 0; step <= 40; step++ {
		if err := vm.RunAll(); err != nil {
			fmt.Println(err)
			return
		}
		if step%10 == 0 {
			fmt.Printf("step %3d  loss %.4f\n", step, loss.Value().Data().(float64))
		}
		grads, err := g.Grads(params)
		if err != nil {
			fmt.Println(err)
			return
		}
		nn.ClipGradNorm(grads, 5)
		for i, p := range params {
			w := p.Value.Data().([]float64)
			for j, d := range grads[i].Data().([]float64) {
				w[j] -= lr * d
			}
		}
		if err := g.ZeroGrads(params); err != nil {
			fmt.Println(err)
			return
		}
		vm.Reset()
	}
	// Output:
	// step   0  loss 1.8920
	// step  10  loss 0.5117
	// step  20  loss 0.0523
	// step  30  loss 0.0037
	// step  40  loss 0.0005
}
