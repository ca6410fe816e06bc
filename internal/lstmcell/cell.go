// Package lstmcell holds the cell math of one LSTM step for one sequence,
// the inner loops shared by synergy/nn's whole-sequence LSTM op and MFN's
// fused recurrence (synergy/models/mfnrec): gate order i, f, g, o as in
// PyTorch, with a mask m that holds the state over padding. The openblas
// build of synergy/nn has a vectorized C implementation of the same cell
// for float32 over many rows (synergy/nn/lstm_cells_openblas.go).
//
// float64 cells compute σ and tanh with package math (the gradient checks
// run in float64). float32 cells compute them with internal/vecmath, eight
// lanes at a time on CPUs with AVX2 and FMA (within 2 ulp of the float64
// functions rounded to float32), and with the same float64 math rounded to
// float32 elsewhere; the rest of the cell is the same float32 arithmetic
// on every path. Results depend on the inputs alone (not on H, alignment
// or which rows run together), for a given CPU path.
package lstmcell

import (
	"math"

	"github.com/synergo/synergo/internal/vecmath"
)

// Float is the element type of the cells.
type Float interface{ float32 | float64 }

// Sigmoid is 1/(1 + e^−x), computed in float64.
func Sigmoid[T Float](x T) T { return T(1 / (1 + math.Exp(-float64(x)))) }

// Tanh is tanh x, computed in float64.
func Tanh[T Float](x T) T { return T(math.Tanh(float64(x))) }

// SigmoidAll sets dst[i] = σ(x[i]): Sigmoid for float64, vecmath.Sigmoid
// for float32. dst may be x.
func SigmoidAll[T Float](dst, x []T) {
	if d32, ok := any(dst).([]float32); ok {
		vecmath.Sigmoid(d32, any(x).([]float32))
		return
	}
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = Sigmoid(v)
	}
}

// TanhAll sets dst[i] = tanh x[i]: Tanh for float64, vecmath.Tanh for
// float32. dst may be x.
func TanhAll[T Float](dst, x []T) {
	if d32, ok := any(dst).([]float32); ok {
		vecmath.Tanh(d32, any(x).([]float32))
		return
	}
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = Tanh(v)
	}
}

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
// so h_t and c_t are h̃ and c̃ exactly. hOut and cOut must not overlap
// the inputs.
func Forward[T Float](a, hPrev, cPrev, tanhC, hOut, cOut []T, m T) {
	if a32, ok := any(a).([]float32); ok {
		forward32(a32, any(hPrev).([]float32), any(cPrev).([]float32), any(tanhC).([]float32),
			any(hOut).([]float32), any(cOut).([]float32), any(m).(float32))
		return
	}
	forwardMath(a, hPrev, cPrev, tanhC, hOut, cOut, m)
}

// forwardMath is Forward with σ and tanh from package math, one entry at a
// time (float64's path; float32's before internal/vecmath, kept as the
// reference of its tests and benchmarks).
func forwardMath[T Float](a, hPrev, cPrev, tanhC, hOut, cOut []T, m T) {
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

// forward32 is Forward for float32 with the nonlinearities on
// internal/vecmath, block by block: σ over a_i | a_f, tanh over a_g, σ
// over a_o (in place), c̃ into cOut, tanh c̃ into tanhC, h̃ into hOut, then
// the blend where m ≠ 1. Each product and sum is rounded to float32 as in
// forwardMath's loop.
func forward32(a, hPrev, cPrev, tanhC, hOut, cOut []float32, m float32) {
	H := len(hPrev)
	a = a[:4*H]
	vecmath.Sigmoid(a[:2*H], a[:2*H])
	vecmath.Tanh(a[2*H:3*H], a[2*H:3*H])
	vecmath.Sigmoid(a[3*H:], a[3*H:])
	i, f, g, o := a[:H], a[H:2*H], a[2*H:3*H], a[3*H:]
	cPrev, tanhC, hOut, cOut = cPrev[:H], tanhC[:H], hOut[:H], cOut[:H]
	for j := range cOut {
		cOut[j] = f[j]*cPrev[j] + i[j]*g[j]
	}
	vecmath.Tanh(tanhC, cOut)
	for j := range hOut {
		hOut[j] = o[j] * tanhC[j]
	}
	if m == 1 {
		return
	}
	for j := range hOut {
		cOut[j] = m*cOut[j] + (1-m)*cPrev[j]
		hOut[j] = m*hOut[j] + (1-m)*hPrev[j]
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
	if backwardKernel != nil {
		if a32, ok := any(a).([]float32); ok {
			backward32(a32, any(da).([]float32), any(cPrev).([]float32), any(tanhC).([]float32),
				any(dh).([]float32), any(dc).([]float32), any(dhIn).([]float32), any(dcIn).([]float32), any(m).(float32))
			return
		}
	}
	backwardLoop(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn, m)
}

// backwardLoop is Backward one unit at a time (float64's path, and
// float32's on CPUs without AVX2).
func backwardLoop[T Float](a, da, cPrev, tanhC, dh, dc, dhIn, dcIn []T, m T) {
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

// lanes is the width of backwardKernel: it takes multiples of it.
const lanes = 8

// backward32 is Backward for float32 on backwardKernel: whole vectors in
// place, the last H mod 8 units through zero-padded copies, so every unit
// is computed by the same instructions whatever H is.
func backward32(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn []float32, m float32) {
	H := len(cPrev)
	a, da, tanhC, dh, dc = a[:4*H], da[:4*H], tanhC[:H], dh[:H], dc[:H]
	if dhIn != nil {
		dhIn, dcIn = dhIn[:H], dcIn[:H]
	}
	body := H - H%lanes
	if body > 0 {
		var hin, cin *float32
		if dhIn != nil {
			hin, cin = &dhIn[0], &dcIn[0]
		}
		backwardKernel(&a[0], &da[0], &cPrev[0], &tanhC[0], &dh[0], &dc[0], hin, cin, body, H, m)
	}
	if body == H {
		return
	}
	var ab, dab [4 * lanes]float32
	var cp, tc, hb, cb, hinb, cinb [lanes]float32
	for k := 0; k < 4; k++ {
		copy(ab[k*lanes:], a[k*H+body:(k+1)*H])
	}
	copy(cp[:], cPrev[body:])
	copy(tc[:], tanhC[body:])
	copy(hb[:], dh[body:])
	copy(cb[:], dc[body:])
	var hin, cin *float32
	if dhIn != nil {
		copy(hinb[:], dhIn[body:])
		copy(cinb[:], dcIn[body:])
		hin, cin = &hinb[0], &cinb[0]
	}
	backwardKernel(&ab[0], &dab[0], &cp[0], &tc[0], &hb[0], &cb[0], hin, cin, lanes, lanes, m)
	for k := 0; k < 4; k++ {
		copy(da[k*H+body:(k+1)*H], dab[k*lanes:])
	}
	copy(dh[body:], hb[:])
	copy(dc[body:], cb[:])
}
