package models_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// exampleBatch returns n samples of word-aligned sequences of 8 steps.
func exampleBatch(dims models.Dims, n int) *datasets.Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	b := &datasets.Batch{Labels: make([]float32, n)}
	for m := 0; m < datasets.NumModalities; m++ {
		T, D := dims.T[m], dims.D[m]
		s := &datasets.Sequences{N: n, T: T, D: D, Data: make([]float32, n*T*D), Lengths: make([]int, n)}
		for i := 0; i < n; i++ {
			s.Lengths[i] = T - i
			for k := 0; k < s.Lengths[i]*D; k++ {
				s.Data[i*T*D+k] = float32(rng.NormFloat64())
			}
		}
		b.Features[m] = s
	}
	return b
}

// A model builds its forward pass into a graph for one batch size, Feed
// sets the inputs, and the outputs expose Z_t, Z_a, Z_v and Z for the
// regularizer.
func Example() {
	dims := models.Dims{T: [3]int{8, 8, 8}, D: [3]int{300, 5, 20}, Task: datasets.Regression}
	m, err := models.New("tfn", "mosi", dims, tensor.Float32, 1111)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := nn.NewGraph(tensor.Float32, false) // an evaluation graph: no dropout
	out, err := m.Build(g, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Feed(g, exampleBatch(dims, 4)); err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Z_t, Z_a, Z_v:", out.Unimodal[0].Shape(), out.Unimodal[1].Shape(), out.Unimodal[2].Shape())
	fmt.Println("Z:", out.Fused.Shape(), "Pred:", out.Pred.Shape())
	// Output:
	// Z_t, Z_a, Z_v: (4, 32) (4, 32) (4, 128)
	// Z: (4, 64) Pred: (4)
}

// New reports the known models for an unknown name.
func ExampleNew_unknown() {
	_, err := models.New("mult", "mosi", models.Dims{}, tensor.Float32, 1)
	fmt.Println(err)
	// Output:
	// models: unknown model "mult"; known models: eflstm, lmf, mfn, tfn, magbert, misa, mmim
}
