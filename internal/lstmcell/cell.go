// Package lstmcell holds the cell math of one LSTM step for one sequence,
// the inner loops shared by synergy/nn's whole-sequence LSTM op and MFN's
// fused recurrence (synergy/models/mfnrec): gate order i, f, g, o as in
// PyTorch, with a mask m that holds the state over padding. The openblas
// build of synergy/nn has a vectorized C implementation of the same cell
// for float32 over many rows (synergy/nn/lstm_cells_openblas.go).
package lstmcell

import "math"

// Float is the element type of the cells.
type Float interface{ float32 | float64 }

// Sigmoid is 1/(1 + e^−x), computed in float64.
func Sigmoid[T Float](x T) T { return T(1 / (1 + math.Exp(-float64(x)))) }

// Tanh is tanh x, computed in float64.
func Tanh[T Float](x T) T { return T(math.Tanh(float64(x))) }

// Forward computes one step of one sequence with H = len(hPrev) hidden
// units:
//
//	i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
//	c̃ = f⊙c_{t−1} + i⊙g;  h̃ = o⊙tanh(c̃)
//	c_t = m c̃ + (1−m) c_{t−1};  h_t = m h̃ + (1−m) h_{t−1}
//
// a (4H) holds the pre-activations a_i | a_f | a_g | a_o and is overwritten
// with i | f | g | o (what Backward needs); tanhC (H) receives tanh c̃;
// hOut and cOut (H) receive h_t and c_t. With m = 1 the blend is skipped,
// so h_t and c_t are h̃ and c̃ exactly.
func Forward[T Float](a, hPrev, cPrev, tanhC, hOut, cOut []T, m T) {
	H := len(hPrev)
	for j := 0; j < H; j++ {
		i := Sigmoid(a[j])
		f := Sigmoid(a[H+j])
		g := Tanh(a[2*H+j])
		o := Sigmoid(a[3*H+j])
		a[j], a[H+j], a[2*H+j], a[3*H+j] = i, f, g, o
		c := f*cPrev[j] + i*g
		th := Tanh(c)
		tanhC[j] = th
		h := o * th
		if m == 1 {
			cOut[j], hOut[j] = c, h
		} else {
			cOut[j] = m*c + (1-m)*cPrev[j]
			hOut[j] = m*h + (1-m)*hPrev[j]
		}
	}
}

// Backward is the step of back-propagation through time for Forward with
// H = len(cPrev). dh and dc (H) hold the gradient carried to h_t and c_t
// from later steps; dhIn and dcIn (H, or nil for none) the gradient of
// this step's outputs h_t and c_t themselves. With δh_t = dh + dhIn and
// δc_t = dc + dcIn:
//
//	δh̃ = m δh_t;  δc̃ = m δc_t + δh̃⊙o⊙(1−tanh²c̃)
//	δa_o = δh̃⊙tanh c̃⊙o(1−o);  δa_i = δc̃⊙g⊙i(1−i)
//	δa_g = δc̃⊙i⊙(1−g²);        δa_f = δc̃⊙c_{t−1}⊙f(1−f)
//
// into da (4H), and dc, dh become the parts carried on to step t−1:
// (1−m)δc_t + δc̃⊙f and (1−m)δh_t (the caller adds δa·Whᵀ to dh). a and
// tanhC are what Forward left.
func Backward[T Float](a, da, cPrev, tanhC, dh, dc, dhIn, dcIn []T, m T) {
	H := len(cPrev)
	for j := 0; j < H; j++ {
		i, f, g, o := a[j], a[H+j], a[2*H+j], a[3*H+j]
		dht, dct := dh[j], dc[j]
		if dhIn != nil {
			dht += dhIn[j]
			dct += dcIn[j]
		}
		dhn := m * dht
		th := tanhC[j]
		dcn := m*dct + dhn*o*(1-th*th)
		da[j] = dcn * g * i * (1 - i)
		da[H+j] = dcn * cPrev[j] * f * (1 - f)
		da[2*H+j] = dcn * i * (1 - g*g)
		da[3*H+j] = dhn * th * o * (1 - o)
		dc[j] = (1-m)*dct + dcn*f
		dh[j] = (1 - m) * dht
	}
}
