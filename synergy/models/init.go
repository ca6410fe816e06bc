package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/synergo/synergo/synergy/nn"
	"gonum.org/v1/gonum/mat"
)

// The initializations of a BERT-based model's own layers (everything but
// the BERT encoder), the value of the configurations' Init field.
const (
	// InitOriginal re-initializes the layers as the original code does
	// after building them (the default): MAG-BERT's MAG and head
	// N(0, initializer_range²) weights and zero biases (BERT's
	// _init_weights, applied by init_weights()); MISA's LSTM weight_hh
	// orthogonal (nn.init.orthogonal_ in src/solver.py); MMIM's non-BERT
	// parameters with two or more dimensions xavier-normal
	// (nn.init.xavier_normal_ in src/solver.py).
	InitOriginal = "original"
	// InitPyTorch keeps the per-layer defaults every layer of package nn
	// starts from (PyTorch's: U(±1/√fan_in) for nn.Linear and nn.LSTM
	// weights and biases, γ = 1 and β = 0 for LayerNorm).
	InitPyTorch = "pytorch"
)

// resolveInit returns the initialization v names ("" = InitOriginal), or
// an error naming field.
func resolveInit(field, v string) (string, error) {
	switch v {
	case "", InitOriginal:
		return InitOriginal, nil
	case InitPyTorch:
		return InitPyTorch, nil
	}
	return "", fmt.Errorf("models: %s = %q, want %q or %q", field, v, InitOriginal, InitPyTorch)
}

// initNormalLinear sets l's weight to N(0, std²) and its bias to 0, as
// BERT's _init_weights does for every nn.Linear.
func initNormalLinear(l *nn.Linear, std float64, rng *rand.Rand) error {
	if err := l.W.SetFloat64s(nn.Normal(std)(rng, l.W.Shape)); err != nil {
		return err
	}
	if l.B != nil {
		return l.B.SetFloat64s(nn.Zeros(rng, l.B.Shape))
	}
	return nil
}

// initXavierNormal sets every parameter of params with two dimensions to
// PyTorch's xavier_normal_: N(0, 2/(fan_in + fan_out)). For a matrix
// fan_in + fan_out is the sum of its two sizes in either layout (ours
// (in, out), PyTorch's (out, in)), so the standard deviation is the
// original's. Parameters of another rank are left as they are.
func initXavierNormal(params []*nn.Param, rng *rand.Rand) error {
	for _, p := range params {
		if len(p.Shape) != 2 {
			continue
		}
		std := math.Sqrt(2 / float64(p.Shape[0]+p.Shape[1]))
		if err := p.SetFloat64s(nn.Normal(std)(rng, p.Shape)); err != nil {
			return err
		}
	}
	return nil
}

// initOrthogonalRecurrent sets the recurrent matrix Wh (H, 4H) of l to the
// transpose of PyTorch's orthogonal_ of weight_hh (4H, H): a (4H, H)
// matrix A ~ N(0, 1), its QR decomposition A = QR, Q's columns multiplied
// by the signs of R's diagonal. Wh = Qᵀ then has orthonormal rows,
// Wh Whᵀ = I_H.
func initOrthogonalRecurrent(l *nn.LSTM, rng *rand.Rand) error {
	h, rows := l.Hidden, 4*l.Hidden
	a := mat.NewDense(rows, h, nn.Normal(1)(rng, []int{rows, h}))
	var qr mat.QR
	qr.Factorize(a)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	wh := make([]float64, h*rows)
	for j := 0; j < h; j++ {
		sign := 1.0
		if r.At(j, j) < 0 {
			sign = -1
		}
		for i := 0; i < rows; i++ {
			wh[j*rows+i] = sign * q.At(i, j)
		}
	}
	return l.Wh.SetFloat64s(wh)
}
