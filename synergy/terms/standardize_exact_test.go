package terms

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// oldStandardize is the standardize op's forward and backward passes
// before they ran row by row: column by column, each sum in one running
// value. It returns ẑ, 1/σ and ∂L/∂z for ∂L/∂ẑ = dOut.
func oldStandardize(z, dOut []float64, B, d int) (y, invSigma, dz []float64) {
	y = append([]float64(nil), z...)
	invSigma = make([]float64, d)
	for j := 0; j < d; j++ {
		mean := 0.0
		for i := 0; i < B; i++ {
			mean += y[i*d+j]
		}
		mean /= float64(B)
		v := 0.0
		for i := 0; i < B; i++ {
			c := y[i*d+j] - mean
			y[i*d+j] = c
			v += c * c
		}
		inv := 1 / math.Sqrt(v/float64(B)+standardizeEps)
		invSigma[j] = inv
		for i := 0; i < B; i++ {
			y[i*d+j] *= inv
		}
	}
	dz = append([]float64(nil), dOut...)
	for j := 0; j < d; j++ {
		var mg, mgy float64
		for i := 0; i < B; i++ {
			mg += dz[i*d+j]
			mgy += dz[i*d+j] * y[i*d+j]
		}
		mg /= float64(B)
		mgy /= float64(B)
		inv := invSigma[j]
		for i := 0; i < B; i++ {
			dz[i*d+j] = inv * (dz[i*d+j] - mg - y[i*d+j]*mgy)
		}
	}
	return y, invSigma, dz
}

// TestStandardizeBitExact compares the standardize op's row-by-row passes
// with the column-by-column loops they replaced, bit for bit (ẑ, 1/σ and
// ∂L/∂z, before the output's rounding), for float32 and float64 inputs,
// with constant columns and values of very different scales.
func TestStandardizeBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, shape := range [][2]int{{1, 1}, {2, 3}, {7, 5}, {32, 64}, {64, 16}, {64, 3}, {128, 300}, {9, 37}} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			B, d := shape[0], shape[1]
			z, g := make([]float64, B*d), make([]float64, B*d)
			for i := range z {
				z[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*3)
				g[i] = rng.NormFloat64()
				if dt == tensor.Float32 {
					z[i], g[i] = float64(float32(z[i])), float64(float32(g[i]))
				}
			}
			for i := 0; i < B; i++ { // a constant column
				z[i*d] = 1.5
			}
			gr := nn.NewGraph(dt, false)
			out, err := Standardize(gr.Input("z", B, d))
			if err != nil {
				t.Fatal(err)
			}
			op := out.Op().(*standardizeOp)
			val := func(x []float64) *tensor.Dense {
				if dt == tensor.Float32 {
					f := make([]float32, len(x))
					for i, v := range x {
						f[i] = float32(v)
					}
					return tensor.New(tensor.WithShape(B, d), tensor.WithBacking(f))
				}
				return tensor.New(tensor.WithShape(B, d), tensor.WithBacking(append([]float64(nil), x...)))
			}
			if _, err := op.Do(val(z)); err != nil {
				t.Fatal(err)
			}
			wantY, wantInv, wantDz := oldStandardize(z, g, B, d)
			if _, err := op.st.backward(val(g)); err != nil {
				t.Fatal(err)
			}
			for name, pair := range map[string][2][]float64{"ẑ": {op.st.y, wantY}, "1/σ": {op.st.invSigma, wantInv}, "∂L/∂z": {op.st.dz, wantDz}} {
				for i, v := range pair[0] {
					if math.Float64bits(v) != math.Float64bits(pair[1][i]) {
						t.Fatalf("%v %v: %s[%d] = %v, column loops %v", shape, dt, name, i, v, pair[1][i])
					}
				}
			}
		}
	}
}
