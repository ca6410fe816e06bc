package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// broadcastAffine is the graph channelAffine replaced: γ and β expanded to
// rows of c·k by expandChannels, then BroadcastHadamardProd and
// BroadcastAdd along the batch axis.
func broadcastAffine(g *nn.Graph, xhat, gammaIn, betaIn *G.Node, c, k int) (*G.Node, error) {
	gamma, err := expandChannels(g, gammaIn, c, k)
	if err != nil {
		return nil, err
	}
	beta, err := expandChannels(g, betaIn, c, k)
	if err != nil {
		return nil, err
	}
	y, err := G.BroadcastHadamardProd(xhat, gamma, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(y, beta, nil, []byte{0})
}

// expandChannels turns a (c) vector v into the (1, c·k) row with v[ch]
// repeated k times: reshape(v (c,1) · 1 (1,k)), with an aligned ones row.
func expandChannels(g *nn.Graph, v *G.Node, c, k int) (*G.Node, error) {
	if k == 1 {
		return G.Reshape(v, []int{1, c})
	}
	col, err := G.Reshape(v, []int{c, 1})
	if err != nil {
		return nil, err
	}
	onesRow := G.NewConstant(nn.NewAlignedDense(g.Dtype, ones(k), 1, k), G.WithName(fmt.Sprintf("models.ones[1 %d]", k)))
	rep, err := G.Mul(col, onesRow)
	if err != nil {
		return nil, err
	}
	return G.Reshape(rep, []int{1, c * k})
}

// TestChannelAffineMatchesBroadcast compares channelAffine's output and
// ∂L/∂γ, ∂L/∂β with the broadcast graph's bit for bit, in both dtypes, for
// one value per channel (TFN's and LMF's sub-networks, k = 1) and several
// (EF-LSTM's time steps, k > 1), on batches large enough to run on two
// goroutines, with ±0 and large entries and channels whose gradients are
// all −0 or +0; a second run on other values
// checks that the reused buffers are rewritten in full.
func TestChannelAffineMatchesBroadcast(t *testing.T) {
	for _, sz := range [][3]int{{40, 900, 1}, {64, 20, 35}, {3, 4, 5}} {
		b, c, k := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(uint64(c), uint64(k)))
		draw := func(n int, scale float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = scale * rng.NormFloat64()
				switch rng.IntN(23) {
				case 0:
					v[i] = 0
				case 1:
					v[i] = math.Copysign(0, -1)
				case 2:
					v[i] *= 1e6
				}
			}
			return v
		}
		runs := make([][][]float64, 2) // x̂, γ, β, weights of the cost
		for r := range runs {
			runs[r] = [][]float64{draw(b*c*k, 1), draw(c, 1), draw(c, 0.1), draw(b*c*k, 1)}
			// Channel 0 gets −0 output gradients throughout, channel 1
			// +0: their sums are zeros whose sign the order fixes.
			for i := 0; i < b; i++ {
				for j := 0; j < k; j++ {
					runs[r][3][i*c*k+j] = math.Copysign(0, -1)
					runs[r][3][i*c*k+k+j] = 0
				}
			}
		}
		run := func(dt tensor.Dtype, fused bool) [][][]uint64 {
			g := nn.NewGraph(dt, true)
			xn, gn, bn, wn := g.Input("x", b, c*k), g.Input("gamma", c), g.Input("beta", c), g.Input("w", b, c*k)
			var y *G.Node
			var err error
			if fused {
				y, err = channelAffine(g, xn, gn, bn, c, k)
			} else {
				y, err = broadcastAffine(g, xn, gn, bn, c, k)
			}
			if err != nil {
				t.Fatal(err)
			}
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, wn))))
			if _, err := G.Grad(cost, gn, bn); err != nil {
				t.Fatal(err)
			}
			return runBits(t, g, []*G.Node{xn, gn, bn, wn}, runs, y, gn, bn)
		}
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			want, got := run(dt, false), run(dt, true)
			for r := range want {
				for i, what := range []string{"y", "∂L/∂γ", "∂L/∂β"} {
					if !slices.Equal(got[r][i], want[r][i]) {
						t.Fatalf("%v %v, run %d: %s differs from the broadcast graph's", sz, dt, r, what)
					}
				}
			}
		}
	}
}

// TestChannelAffineRefusesShapes checks the error for mismatched shapes
// and dtypes.
func TestChannelAffineRefusesShapes(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, true)
	g32 := nn.NewGraph(tensor.Float32, true)
	x, gamma, beta := g.Input("x", 2, 6), g.Input("gamma", 3), g.Input("beta", 3)
	for _, c := range []struct {
		what           string
		x, gamma, beta *G.Node
		c, k           int
	}{
		{"width ≠ c·k", x, gamma, beta, 3, 3},
		{"γ of another length", x, g.Input("g2", 2), beta, 3, 2},
		{"β of another length", x, gamma, g.Input("b4", 4), 3, 2},
		{"γ of another dtype", x, g32.Input("g32", 3), beta, 3, 2},
		{"a 3-D input", g.Input("x3", 2, 3, 2), gamma, beta, 3, 2},
		{"k = 0", g.Input("x0", 2, 0), gamma, beta, 3, 0},
	} {
		if _, err := channelAffine(g, c.x, c.gamma, c.beta, c.c, c.k); err == nil {
			t.Errorf("%s: no error", c.what)
		}
	}
}
