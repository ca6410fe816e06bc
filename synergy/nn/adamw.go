package nn

import (
	"fmt"
	"math"
	"runtime"

	"github.com/synergo/synergo/internal/parallel"

	"gorgonia.org/tensor"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter, "Fixing
// weight decay regularization in Adam"), the optimizer of the paper's
// training runs (appendix C), with PyTorch's torch.optim.AdamW semantics.
// For each parameter p with gradient g at its step t (counted per
// parameter, from 1):
//
//	p ← p − lr·λ·p                       (decoupled weight decay)
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
//
// The moments are kept in float64 whatever the parameter dtype; a float32
// parameter is updated in float64 and rounded once.
//
// Moments are held in blocks of adamwBlock entries, allocated when the
// block first gets a nonzero gradient. Until then its moments are exactly
// zero, and with ε > 0 the update above reduces, bit for bit, to the decay
// p ← p·(1 − lr·λ) (m and v stay +0, the step term is −0): a word embedding
// of which a batch touches a few hundred rows is decayed, not updated, in
// its other rows, and their moments take no memory — the same parameters
// and moments as the dense update, for a fraction of its memory traffic.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	steps   int
	moments map[string]*adamwMoments
	// Step's scratch, kept between calls: the names seen and the
	// gradients' slices (cleared after each call).
	seen  map[string]bool
	grads []floats
}

// adamwBlock is the number of entries of one block of moments: 4 KiB of
// float64 each for m and v.
const adamwBlock = 512

// adamwMoments is the optimizer's state of one parameter of n entries: its
// step count and the moments of each block of adamwBlock entries, nil for
// a block whose moments are all zero.
type adamwMoments struct {
	step int
	n    int
	m, v [][]float64
}

// newAdamWMoments returns zero moments for n entries (no block allocated).
func newAdamWMoments(n int) *adamwMoments {
	blocks := (n + adamwBlock - 1) / adamwBlock
	return &adamwMoments{n: n, m: make([][]float64, blocks), v: make([][]float64, blocks)}
}

// blockRange returns the entries [lo, hi) of block b.
func (s *adamwMoments) blockRange(b int) (lo, hi int) {
	return b * adamwBlock, min((b+1)*adamwBlock, s.n)
}

// dense returns copies of the moments as full slices (zeros for
// unallocated blocks).
func (s *adamwMoments) dense() AdamWMoments {
	out := AdamWMoments{Step: s.step, M: make([]float64, s.n), V: make([]float64, s.n)}
	for b := range s.m {
		if s.m[b] != nil {
			lo, _ := s.blockRange(b)
			copy(out.M[lo:], s.m[b])
			copy(out.V[lo:], s.v[b])
		}
	}
	return out
}

// adamwMomentsFrom returns the block form of dense moments: a copy of each
// block holding an m or v other than +0 (a −0 moment is kept: it can
// change the sign of a zero weight).
func adamwMomentsFrom(d AdamWMoments) *adamwMoments {
	s := newAdamWMoments(len(d.M))
	s.step = d.Step
	for b := range s.m {
		lo, hi := s.blockRange(b)
		if !allPositiveZero(d.M[lo:hi]) || !allPositiveZero(d.V[lo:hi]) {
			s.m[b] = append([]float64(nil), d.M[lo:hi]...)
			s.v[b] = append([]float64(nil), d.V[lo:hi]...)
		}
	}
	return s
}

// allPositiveZero reports whether every entry of x is +0.
func allPositiveZero(x []float64) bool {
	for _, e := range x {
		if math.Float64bits(e) != 0 {
			return false
		}
	}
	return true
}

// allocatedEntries returns the number of entries whose moments are held.
func (s *adamwMoments) allocatedEntries() int {
	n := 0
	for _, b := range s.m {
		n += len(b)
	}
	return n
}

// AdamWMoments is the state of one parameter: its step count and first and
// second moment estimates m and v (one value per parameter entry).
type AdamWMoments struct {
	Step int
	M, V []float64
}

// AdamWState is everything needed to resume an AdamW optimizer exactly:
// its hyper-parameters, the number of Step calls and the moments of every
// parameter, keyed by parameter name.
type AdamWState struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Steps                              int
	Moments                            map[string]AdamWMoments
}

// NewAdamW returns an AdamW optimizer with learning rate lr and PyTorch's
// defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, weight decay λ = 0.01.
func NewAdamW(lr float64) *AdamW {
	return &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01,
		moments: map[string]*adamwMoments{}}
}

// Steps returns the number of successful Step calls.
func (o *AdamW) Steps() int { return o.steps }

// Step updates params in place from grads (grads[i] is the gradient of
// params[i], of the same shape, float32 or float64). It checks everything
// first and changes nothing when it returns an error: a missing gradient,
// a count or shape mismatch, a NaN or ±Inf gradient entry, a parameter
// listed twice, invalid hyper-parameters, or moments (e.g. from SetState)
// whose size does not match the parameter.
func (o *AdamW) Step(params []*Param, grads []*tensor.Dense) error {
	if err := o.checkHyper(); err != nil {
		return err
	}
	if len(params) != len(grads) {
		return fmt.Errorf("nn: AdamW.Step: %d parameters but %d gradients", len(params), len(grads))
	}
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	clear(o.seen)
	seen := o.seen
	if cap(o.grads) < len(params) {
		o.grads = make([]floats, len(params))
	}
	gs := o.grads[:len(params)] // the gradients' backing slices, not copied
	defer clear(gs)             // keep no reference to them between steps
	for i, p := range params {
		if p == nil {
			return fmt.Errorf("nn: AdamW.Step: parameter %d is nil", i)
		}
		if seen[p.Name] {
			return fmt.Errorf("nn: AdamW.Step: parameter %q listed twice", p.Name)
		}
		seen[p.Name] = true
		g := grads[i]
		if g == nil {
			return fmt.Errorf("nn: AdamW.Step: missing gradient for parameter %q", p.Name)
		}
		if !g.Shape().Eq(tensor.Shape(p.Shape)) {
			return fmt.Errorf("nn: AdamW.Step: gradient of %q has shape %v, want %v", p.Name, g.Shape(), tensor.Shape(p.Shape))
		}
		v, err := adamwGradData(g)
		if err != nil {
			return fmt.Errorf("nn: AdamW.Step: gradient of %q: %w", p.Name, err)
		}
		if j, x, ok := v.firstNonFinite(); !ok {
			return fmt.Errorf("nn: AdamW.Step: gradient of %q has non-finite value %v at index %d", p.Name, x, j)
		}
		if m, ok := o.moments[p.Name]; ok && m.n != p.Size() {
			return fmt.Errorf("nn: AdamW.Step: optimizer state of %q has %d moments, parameter has %d entries", p.Name, m.n, p.Size())
		}
		if _, ok := denseFloats(p.Value); !ok {
			return fmt.Errorf("nn: AdamW.Step: parameter %q has unsupported dtype %v", p.Name, p.Value.Dtype())
		}
		gs[i] = v
	}
	if o.moments == nil {
		o.moments = map[string]*adamwMoments{}
	}
	for i, p := range params {
		m, ok := o.moments[p.Name]
		if !ok {
			m = newAdamWMoments(p.Size())
			o.moments[p.Name] = m
		}
		m.step++
		o.update(p, gs[i], m)
	}
	o.steps++
	return nil
}

// update applies one AdamW step to p, in the order of PyTorch's
// _single_tensor_adamw so that float64 results agree to rounding. The
// arithmetic is float64 for every dtype; float32 parameters and gradients
// are read and written in place (no converted copies), and parameters of
// at least 2·adamwSplitMin entries are updated in chunks of whole blocks
// on GOMAXPROCS goroutines (parallel.Do; entries are independent, so the
// result does not depend on the split).
func (o *AdamW) update(p *Param, g floats, m *adamwMoments) {
	t := float64(m.step)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := 1 - math.Pow(o.Beta2, t)
	k := adamwStep{
		beta1: o.Beta1, oneMinusBeta1: 1 - o.Beta1, beta2: o.Beta2, oneMinusBeta2: 1 - o.Beta2,
		negStepSize: -(o.LR / bc1), bc2Sqrt: math.Sqrt(bc2), eps: o.Eps, decay: 1 - o.LR*o.WeightDecay,
		state: m,
	}
	blocks := len(m.m)
	w, _ := denseFloats(p.Value)
	workers := runtime.GOMAXPROCS(0)
	if m.n < adamwSplitMin || workers < 2 {
		k.apply(w, g, 0, blocks)
		return
	}
	chunks := min(m.n/adamwSplitMin, 4*workers)
	parallel.Do(chunks, func(_, c int) { k.apply(w, g, c*blocks/chunks, (c+1)*blocks/chunks) })
}

// adamwSplitMin is the smallest parameter worth updating on several
// goroutines.
const adamwSplitMin = 1 << 16

// adamwStep holds the constants of one parameter's update.
type adamwStep struct {
	beta1, oneMinusBeta1, beta2, oneMinusBeta2 float64
	negStepSize, bc2Sqrt, eps, decay           float64
	state                                      *adamwMoments
}

// apply updates the blocks [lo, hi) of the weights w from the gradient g
// (float32 or float64 each).
func (k *adamwStep) apply(w, g floats, lo, hi int) {
	switch {
	case w.wide && g.wide:
		adamwBlocks(k, w.f64, g.f64, lo, hi, goAdamWKernels[float64, float64]())
	case w.wide:
		adamwBlocks(k, w.f64, g.f32, lo, hi, goAdamWKernels[float64, float32]())
	case g.wide:
		adamwBlocks(k, w.f32, g.f64, lo, hi, goAdamWKernels[float32, float64]())
	default:
		adamwBlocks(k, w.f32, g.f32, lo, hi, adamwKernels[float32, float32]{adamwLoop32, allZero32, decayAll32})
	}
}

// floats is the backing slice of a float32 (f32) or float64 (f64, wide)
// tensor, the other nil. Unlike the tensor's Data, which boxes the slice
// into an interface (two allocations per call), it costs nothing to get.
type floats struct {
	f32  []float32
	f64  []float64
	wide bool
}

// denseFloats returns d's backing slice, and false for another dtype.
// Float32s and Float64s return it without boxing.
func denseFloats(d *tensor.Dense) (floats, bool) {
	switch d.Dtype() {
	case tensor.Float32:
		return floats{f32: d.Float32s()}, true
	case tensor.Float64:
		return floats{f64: d.Float64s(), wide: true}, true
	}
	return floats{}, false
}

// adamwKernels are the loops of one pairing of weight and gradient types:
// the update of a block, the test of a block of gradients for all zero and
// the decay of a block of weights.
type adamwKernels[W, G float32 | float64] struct {
	update  func(k *adamwStep, w []W, g []G, m, v []float64)
	isZero  func(g []G) bool
	decayed func(w []W, decay float64)
}

// goAdamWKernels returns the Go loops for weights W and gradients G.
func goAdamWKernels[W, G float32 | float64]() adamwKernels[W, G] {
	return adamwKernels[W, G]{adamwLoop[W, G], allZero[G], decayAll[W]}
}

// adamwBlocks runs the update over the blocks [lo, hi) whose moments are
// held or whose gradient has a nonzero entry (allocating that block's
// moments, all zero), and only the decay w ← w·(1 − lr·λ) over the others.
// The decay is what the update computes there: with m = v = +0 and g = ±0,
// m and v stay +0 and the step term is (−lr/(1−β₁ᵗ))·(+0)/ε = −0, which
// leaves w·(1 − lr·λ) unchanged. With ε = 0 that term is NaN, so every
// block runs the update.
func adamwBlocks[W, G float32 | float64](k *adamwStep, w []W, g []G, lo, hi int, f adamwKernels[W, G]) {
	s := k.state
	for b := lo; b < hi; b++ {
		from, to := s.blockRange(b)
		wb, gb := w[from:to], g[from:to]
		if s.m[b] == nil {
			if k.eps > 0 && f.isZero(gb) {
				if k.decay != 1 {
					f.decayed(wb, k.decay)
				}
				continue
			}
			s.m[b], s.v[b] = make([]float64, to-from), make([]float64, to-from)
		}
		f.update(k, wb, gb, s.m[b], s.v[b])
	}
}

// allZero reports whether every entry of x is +0 or −0.
func allZero[T float32 | float64](x []T) bool {
	for _, e := range x {
		if e != 0 {
			return false
		}
	}
	return true
}

// decayAll sets w ← w·decay, the product in float64 rounded once to W.
func decayAll[W float32 | float64](w []W, decay float64) {
	for j, e := range w {
		w[j] = W(float64(e) * decay)
	}
}

// adamwLoop is the update of each entry, in float64 (adamwLoop32 runs it
// vectorized for float32 weights and gradients):
//
//	w ← w·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//	w ← w − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)
func adamwLoop[W, G float32 | float64](k *adamwStep, w []W, g []G, m, v []float64) {
	if len(w) == 0 {
		return
	}
	_, _, _ = g[len(w)-1], m[len(w)-1], v[len(w)-1]
	for j := range w {
		gj := float64(g[j])
		wj := float64(w[j]) * k.decay
		mj := m[j]*k.beta1 + gj*k.oneMinusBeta1
		vj := v[j]*k.beta2 + k.oneMinusBeta2*gj*gj
		m[j], v[j] = mj, vj
		denom := math.Sqrt(vj)/k.bc2Sqrt + k.eps
		w[j] = W(wj + k.negStepSize*mj/denom)
	}
}

func (o *AdamW) checkHyper() error {
	switch {
	case !(o.LR >= 0) || math.IsInf(o.LR, 0):
		return fmt.Errorf("nn: AdamW: learning rate %v, want a finite value ≥ 0", o.LR)
	case !(o.Beta1 >= 0 && o.Beta1 < 1):
		return fmt.Errorf("nn: AdamW: Beta1 %v, want [0, 1)", o.Beta1)
	case !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("nn: AdamW: Beta2 %v, want [0, 1)", o.Beta2)
	case !(o.Eps >= 0) || math.IsInf(o.Eps, 0):
		return fmt.Errorf("nn: AdamW: Eps %v, want a finite value ≥ 0", o.Eps)
	case !(o.WeightDecay >= 0) || math.IsInf(o.WeightDecay, 0):
		return fmt.Errorf("nn: AdamW: WeightDecay %v, want a finite value ≥ 0", o.WeightDecay)
	}
	return nil
}

// adamwGradData returns the backing slice of a float32 or float64
// gradient, materializing a view.
func adamwGradData(d *tensor.Dense) (floats, error) {
	if d.IsView() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return floats{}, fmt.Errorf("cannot materialize view")
		}
		d = m
	}
	v, ok := denseFloats(d)
	if !ok {
		return floats{}, fmt.Errorf("unsupported dtype %v", d.Dtype())
	}
	return v, nil
}

// firstNonFinite returns the index and value of the first NaN or ±Inf
// entry of v, and ok = false if there is one.
func (v floats) firstNonFinite() (int, float64, bool) {
	if !v.wide {
		return firstNonFinite32(v.f32)
	}
	for j, x := range v.f64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return j, x, false
		}
	}
	return 0, 0, true
}

// State returns a deep copy of the optimizer state (for checkpoints).
func (o *AdamW) State() AdamWState {
	s := AdamWState{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay,
		Steps: o.steps, Moments: make(map[string]AdamWMoments, len(o.moments))}
	for name, m := range o.moments {
		s.Moments[name] = m.dense()
	}
	return s
}

// SetState replaces the optimizer's hyper-parameters, step count and
// moments by a deep copy of s (as torch's load_state_dict does). It
// returns an error, and changes nothing, if s is inconsistent: a negative
// step count, M and V of different lengths, or non-finite moments.
// Sizes against the parameters are checked by the next Step.
func (o *AdamW) SetState(s AdamWState) error {
	if s.Steps < 0 {
		return fmt.Errorf("nn: AdamW.SetState: negative step count %d", s.Steps)
	}
	moments := make(map[string]*adamwMoments, len(s.Moments))
	for name, m := range s.Moments {
		if m.Step < 0 || len(m.M) != len(m.V) {
			return fmt.Errorf("nn: AdamW.SetState: moments of %q: step %d, %d first and %d second moments", name, m.Step, len(m.M), len(m.V))
		}
		for j := range m.M {
			if math.IsNaN(m.M[j]) || math.IsInf(m.M[j], 0) || !(m.V[j] >= 0) || math.IsInf(m.V[j], 0) {
				return fmt.Errorf("nn: AdamW.SetState: moments of %q at index %d are invalid (m=%v, v=%v)", name, j, m.M[j], m.V[j])
			}
		}
		moments[name] = adamwMomentsFrom(m)
	}
	o.LR, o.Beta1, o.Beta2, o.Eps, o.WeightDecay = s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay
	o.steps = s.Steps
	o.moments = moments
	return nil
}
