package models

import (
	"math"
	"math/rand/v2"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// PyTorch's BatchNorm1d defaults.
const (
	batchNormMomentum = 0.1
	batchNormEps      = 1e-5
)

// inputBatchNorm is PyTorch's BatchNorm1d applied directly to model inputs
// (TFN/LMF's audio and vision sub-networks normalize the time-averaged
// features; MMSA's EF-LSTM normalizes each time step). Because its input is
// data, not a function of parameters, the normalization
//
//	x̂[i,c,k] = (x[i,c,k] − μ_c) / √(σ²_c + ε),  ε = 1e-5,
//
// is computed in Feed (μ_c, σ²_c: the biased batch mean and variance over i
// and k in a training graph, the running estimates in an evaluation graph)
// and only the affine part y = γ_c·x̂ + β_c is in the graph. This has the
// same value and parameter gradients as PyTorch's layer. In a training graph
// the running estimates are updated as PyTorch does:
//
//	μ_run ← (1−m)·μ_run + m·μ_c,  σ²_run ← (1−m)·σ²_run + m·σ²_c·n/(n−1),
//
// with momentum m = 0.1 and n the number of values per channel. With a single
// value per channel (a training batch of one sample) PyTorch refuses to run;
// here the running estimates are used instead and not updated.
type inputBatchNorm struct {
	channels    int
	gamma, beta *nn.Param // trainable, shape (channels); init 1 and 0
	mean, vari  *nn.Param // running estimates (buffers), shape (channels); init 0 and 1
}

func newInputBatchNorm(ps, buffers *nn.ParamSet, name string, channels int, rng *rand.Rand) *inputBatchNorm {
	return &inputBatchNorm{
		channels: channels,
		gamma:    ps.Add(name+".gamma", []int{channels}, nn.Constant(1), rng),
		beta:     ps.Add(name+".beta", []int{channels}, nn.Zeros, rng),
		mean:     buffers.Add(name+".running_mean", []int{channels}, nn.Zeros, rng),
		vari:     buffers.Add(name+".running_var", []int{channels}, nn.Constant(1), rng),
	}
}

// normalize returns x̂ for the values x laid out as (n, channels, k) and, if
// train, updates the running estimates (normalizeRows on rows of x).
func (bn *inputBatchNorm) normalize(x []float64, n, k int, train bool) []float64 {
	c := bn.channels
	out := make([]float64, len(x))
	bn.normalizeRows(n, k, train,
		func(i, ch int, row []float64) { copy(row, x[(i*c+ch)*k:(i*c+ch+1)*k]) },
		func(i, ch int, xhat []float64) { copy(out[(i*c+ch)*k:], xhat) })
	return out
}

// normalizeRows normalizes n samples of channels × k values that row
// supplies — row(i, ch, dst) writes the k values of sample i, channel ch
// into dst — and hands each normalized row to put (put(i, ch, x̂), x̂ valid
// only during the call); if train, it updates the running estimates. The
// values are read where they are: a caller never holds them, or x̂, as one
// array. The batch statistics are computed in chunks of channels and x̂ in
// chunks of samples, concurrently (parallel.Rows; row and put run on
// several goroutines at once, for different rows); each channel's sums run
// over the samples in order, so the result does not depend on the
// chunking.
func (bn *inputBatchNorm) normalizeRows(n, k int, train bool, row func(i, ch int, dst []float64), put func(i, ch int, xhat []float64)) {
	c := bn.channels
	mean := make([]float64, c)
	vari := make([]float64, c)
	count := n * k
	useBatch := train && count >= 2
	if useBatch {
		parallel.Rows(c, n*k, func(c0, c1 int) {
			channelSums(n, k, c0, c1, row, nil, mean)
			for ch := c0; ch < c1; ch++ {
				mean[ch] /= float64(count)
			}
			channelSums(n, k, c0, c1, row, mean, vari)
			for ch := c0; ch < c1; ch++ {
				vari[ch] /= float64(count)
			}
		})
		runMean, runVar := bn.mean.Float64s(), bn.vari.Float64s()
		unbias := float64(count) / float64(count-1)
		for ch := 0; ch < c; ch++ {
			runMean[ch] = (1-batchNormMomentum)*runMean[ch] + batchNormMomentum*mean[ch]
			runVar[ch] = (1-batchNormMomentum)*runVar[ch] + batchNormMomentum*vari[ch]*unbias
		}
		// Lengths match by construction.
		_ = bn.mean.SetFloat64s(runMean)
		_ = bn.vari.SetFloat64s(runVar)
	} else {
		mean, vari = bn.mean.Float64s(), bn.vari.Float64s()
	}
	parallel.Rows(n, c*k, func(i0, i1 int) {
		v := make([]float64, k)
		for i := i0; i < i1; i++ {
			for ch := 0; ch < c; ch++ {
				inv := 1 / math.Sqrt(vari[ch]+batchNormEps)
				row(i, ch, v)
				for j, x := range v {
					v[j] = (x - mean[ch]) * inv
				}
				put(i, ch, v)
			}
		}
	})
}

// channelSumGroup is the number of channels channelSums adds up at once.
const channelSumGroup = 4

// channelSums sets out[ch], for the channels [c0, c1), to Σᵢ Σⱼ x[i,ch,j]
// (center nil) or Σᵢ Σⱼ (x[i,ch,j] − center[ch])², the values read through
// row and added one at a time over i and then j in order, from 0. Groups
// of channelSumGroup channels are summed side by side, so their additions
// are independent chains the processor overlaps; each channel's sum is
// the same sequence of roundings as a loop over that channel alone.
func channelSums(n, k, c0, c1 int, row func(i, ch int, dst []float64), center, out []float64) {
	var bufs [channelSumGroup][]float64
	for g := range bufs {
		bufs[g] = make([]float64, k)
	}
	ch := c0
	for ; ch+channelSumGroup <= c1; ch += channelSumGroup {
		v0, v1, v2, v3 := bufs[0], bufs[1], bufs[2], bufs[3]
		var s0, s1, s2, s3 float64
		for i := 0; i < n; i++ {
			row(i, ch, v0)
			row(i, ch+1, v1)
			row(i, ch+2, v2)
			row(i, ch+3, v3)
			if center == nil {
				for j := range v0 {
					s0 += v0[j]
					s1 += v1[j]
					s2 += v2[j]
					s3 += v3[j]
				}
				continue
			}
			m0, m1, m2, m3 := center[ch], center[ch+1], center[ch+2], center[ch+3]
			for j := range v0 {
				d0, d1, d2, d3 := v0[j]-m0, v1[j]-m1, v2[j]-m2, v3[j]-m3
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
			}
		}
		out[ch], out[ch+1], out[ch+2], out[ch+3] = s0, s1, s2, s3
	}
	for ; ch < c1; ch++ {
		v := bufs[0]
		var sum float64
		for i := 0; i < n; i++ {
			row(i, ch, v)
			if center == nil {
				for _, x := range v {
					sum += x
				}
				continue
			}
			for _, x := range v {
				d := x - center[ch]
				sum += d * d
			}
		}
		out[ch] = sum
	}
}

// affine returns γ_c·x̂ + β_c for x̂ of shape (B, channels·k) laid out as
// (channels, k) per row (channelAffine).
func (bn *inputBatchNorm) affine(g *nn.Graph, xhat *G.Node, k int) (*G.Node, error) {
	return channelAffine(g, xhat, g.Param(bn.gamma), g.Param(bn.beta), bn.channels, k)
}
