package models

import (
	"fmt"
	"math"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// firstError returns the first non-nil error of errs, in order: the
// argument checks of a model constructor (dtype, dims, configuration) in
// the order their errors are reported.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// intField and probField name a configuration field and hold its value,
// for checkPositiveFields and checkDropoutFields.
type (
	intField struct {
		name string
		v    int
	}
	probField struct {
		name string
		p    float64
	}
)

// checkPositiveFields returns the error of the first field whose value is
// not > 0 (see checkPositive), naming it config + "." + field.
func checkPositiveFields(config string, fields ...intField) error {
	for _, f := range fields {
		if err := checkPositive(config+"."+f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// checkDropoutFields returns the error of the first field whose value is
// not a probability in [0, 1) (see checkDropout), naming it config + "." +
// field.
func checkDropoutFields(config string, fields ...probField) error {
	for _, f := range fields {
		if err := checkDropout(config+"."+f.name, f.p); err != nil {
			return err
		}
	}
	return nil
}

// inputName returns the name of a model's input node in a graph.
func inputName(model, what string) string { return "models." + model + "." + what }

// inputNode returns the input node called name that Build created in g, or
// an error naming the model if g was not built by it.
func inputNode(g *nn.Graph, model, name string) (*G.Node, error) {
	n, ok := g.Inputs()[name]
	if !ok {
		return nil, fmt.Errorf("models: %s: graph has no input %q (was it built by this model's Build?)", model, name)
	}
	return n, nil
}

// feedInput sets the input node what that model's Build created in g to
// values (see let).
func feedInput(g *nn.Graph, model, what string, values []float64) error {
	n, err := inputNode(g, model, inputName(model, what))
	if err != nil {
		return err
	}
	return let(g, n, values)
}

// checkBatch returns an error unless b holds batch samples whose features
// have the dims the model was built for.
func checkBatch(model string, b *multimodal.Batch, batch int, dims Dims) error {
	if b == nil {
		return fmt.Errorf("models: %s: nil batch", model)
	}
	if b.Size() != batch {
		return fmt.Errorf("models: %s: batch has %d samples, the graph was built for %d", model, b.Size(), batch)
	}
	for m := 0; m < multimodal.NumModalities; m++ {
		s := b.Features[m]
		mod := multimodal.Modality(m)
		if s == nil {
			return fmt.Errorf("models: %s: batch has no %v features", model, mod)
		}
		if s.N != batch || s.T != dims.T[m] || s.D != dims.D[m] {
			return fmt.Errorf("models: %s: %v features have N=%d, T=%d, D=%d; want N=%d, T=%d, D=%d",
				model, mod, s.N, s.T, s.D, batch, dims.T[m], dims.D[m])
		}
		if len(s.Data) != s.N*s.T*s.D {
			return fmt.Errorf("models: %s: %v features hold %d values, want N·T·D = %d", model, mod, len(s.Data), s.N*s.T*s.D)
		}
		if len(s.Lengths) != s.N {
			return fmt.Errorf("models: %s: %v features have %d lengths, want %d", model, mod, len(s.Lengths), s.N)
		}
		for i, l := range s.Lengths {
			if l < 1 || l > s.T {
				return fmt.Errorf("models: %s: %v sample %d has length %d, want 1..%d", model, mod, i, l, s.T)
			}
		}
	}
	return nil
}

// sequenceValues returns the features of s as float64 in (i, t, d) order, or
// an error naming the first NaN or infinite value.
func sequenceValues(model string, m multimodal.Modality, s *multimodal.Sequences) ([]float64, error) {
	out := make([]float64, len(s.Data))
	for k, v := range s.Data {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nonFiniteFeature(model, m, s, k)
		}
		out[k] = f
	}
	return out, nil
}

// checkFinite returns sequenceValues' error for the first NaN or infinite
// feature of s, or nil.
func checkFinite(model string, m multimodal.Modality, s *multimodal.Sequences) error {
	for k := optvec.NonFinite32(s.Data); k < len(s.Data); k++ {
		if f := float64(s.Data[k]); math.IsNaN(f) || math.IsInf(f, 0) {
			return nonFiniteFeature(model, m, s, k)
		}
	}
	return nil
}

// storeRow writes values into d's backing from entry lo on, rounded to
// d's dtype (float32 or float64), as let does.
func storeRow(d *tensor.Dense, lo int, values []float64) {
	switch x := d.Data().(type) {
	case []float64:
		copy(x[lo:], values)
	case []float32:
		for j, v := range values {
			x[lo+j] = float32(v)
		}
	}
}

// nonFiniteFeature is the error for the NaN or infinite feature s.Data[k].
func nonFiniteFeature(model string, m multimodal.Modality, s *multimodal.Sequences, k int) error {
	i, rest := k/(s.T*s.D), k%(s.T*s.D)
	return fmt.Errorf("models: %s: %v feature (sample %d, step %d, dim %d) is %v; clean the data first",
		model, m, i, rest/s.D, rest%s.D, s.Data[k])
}

// timeMean returns the (N, D) mean over the padded time axis of the (N, T, D)
// values x: mean_t x[i,t,:] = (1/T) Σ_{t<T} x[i,t,:]. Padding steps count as
// zeros, as in MMSA's data_loader (need_normalized) and the original TFN.
func timeMean(x []float64, n, t, d int) []float64 {
	out := make([]float64, n*d)
	for i := 0; i < n; i++ {
		o := out[i*d : (i+1)*d]
		for s := 0; s < t; s++ {
			row := x[(i*t+s)*d : (i*t+s+1)*d]
			for k, v := range row {
				o[k] += v
			}
		}
		for k := range o {
			o[k] /= float64(t)
		}
	}
	return out
}

// maskedMeanWeights returns the (N, T) weights w[i,t] = 1/len_i for t <
// len_i and 0 after, so that Σ_t w[i,t] x[i,t,:] is the mean over the valid
// steps of sequence i.
func maskedMeanWeights(lengths []int, t int) []float64 {
	w := make([]float64, len(lengths)*t)
	for i, l := range lengths {
		for s := 0; s < l; s++ {
			w[i*t+s] = 1 / float64(l)
		}
	}
	return w
}

// unionLengths returns, per sample, the largest length over the modalities.
func unionLengths(b *multimodal.Batch) []int {
	out := make([]int, b.Size())
	for m := 0; m < multimodal.NumModalities; m++ {
		for i, l := range b.Features[m].Lengths {
			if l > out[i] {
				out[i] = l
			}
		}
	}
	return out
}

// newDense returns a tensor of dtype dt holding a copy of values, its
// backing 64-byte aligned (nn.NewAlignedDense: gonum's float32 dot sums in
// an order set by the address, so alignment keeps results bit-reproducible).
func newDense(dt tensor.Dtype, values []float64, shape ...int) *tensor.Dense {
	return nn.NewAlignedDense(dt, values, shape...)
}

// let sets the input node n to values, converted to the graph's dtype in
// the graph's reused input tensor (nn.Graph.InputTensor).
func let(g *nn.Graph, n *G.Node, values []float64) error {
	if len(values) != n.Shape().TotalSize() {
		return fmt.Errorf("models: input %q: %d values for shape %v", n.Name(), len(values), n.Shape())
	}
	d := g.InputTensor(n)
	storeRow(d, 0, values)
	return G.Let(n, d)
}

// letSequence sets the input node n to the features of s, (N, T, D), in
// the graph's dtype — the values sequenceValues returns, without its
// float64 copy (a float32 feature is the same number in either dtype) —
// in the graph's reused input tensor, copied in chunks of samples on
// GOMAXPROCS goroutines; a NaN or infinite feature is sequenceValues'
// error.
func letSequence(g *nn.Graph, n *G.Node, model string, m multimodal.Modality, s *multimodal.Sequences) error {
	if len(s.Data) != n.Shape().TotalSize() {
		return fmt.Errorf("models: input %q: %d values for shape %v", n.Name(), len(s.Data), n.Shape())
	}
	if err := checkFinite(model, m, s); err != nil {
		return err
	}
	d := g.InputTensor(n)
	step := s.T * s.D
	switch x := d.Data().(type) {
	case []float32:
		parallel.Rows(s.N, step, func(lo, hi int) { copy(x[lo*step:hi*step], s.Data[lo*step:hi*step]) })
	case []float64:
		parallel.Rows(s.N, step, func(lo, hi int) {
			for k := lo * step; k < hi*step; k++ {
				x[k] = float64(s.Data[k])
			}
		})
	}
	return G.Let(n, d)
}

// ones returns a slice of n ones.
func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
