package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// Param is a named, trainable tensor that lives outside any graph.
type Param struct {
	Name  string
	Shape []int
	Value *tensor.Dense
}

// Size returns the number of elements.
func (p *Param) Size() int { return tensor.Shape(p.Shape).TotalSize() }

// Float64s returns a copy of the values as float64.
func (p *Param) Float64s() []float64 {
	v, err := opkit.Float64Copy(p.Value, "nn: parameter "+p.Name)
	if err != nil {
		panic(err)
	}
	return v
}

// SetFloat64s overwrites the values from float64 (converting if needed).
func (p *Param) SetFloat64s(v []float64) error {
	if len(v) != p.Size() {
		return fmt.Errorf("nn: param %q: got %d values, want %d", p.Name, len(v), p.Size())
	}
	switch d := p.Value.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
	return nil
}

// Initializer fills a new parameter of the given shape. fanIn and fanOut are
// those of a weight matrix (rows, cols) or 0 for vectors.
type Initializer func(rng *rand.Rand, shape []int) []float64

// Zeros initializes to 0.
func Zeros(_ *rand.Rand, shape []int) []float64 {
	return make([]float64, tensor.Shape(shape).TotalSize())
}

// Constant initializes every element to c.
func Constant(c float64) Initializer {
	return func(_ *rand.Rand, shape []int) []float64 {
		v := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = c
		}
		return v
	}
}

// Uniform initializes from U(-a, a).
func Uniform(a float64) Initializer {
	return func(rng *rand.Rand, shape []int) []float64 {
		v := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * a
		}
		return v
	}
}

// Normal initializes from N(0, std²).
func Normal(std float64) Initializer {
	return func(rng *rand.Rand, shape []int) []float64 {
		v := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = rng.NormFloat64() * std
		}
		return v
	}
}

// KaimingUniform is PyTorch's default for nn.Linear weights of shape
// (in, out) here: U(-1/√in, 1/√in).
func KaimingUniform(in int) Initializer { return Uniform(1 / math.Sqrt(float64(in))) }

// XavierUniform initializes a (in, out) matrix from U(-a, a) with
// a = √(6/(in+out)).
func XavierUniform(in, out int) Initializer {
	return Uniform(math.Sqrt(6 / float64(in+out)))
}

// ParamSet owns named parameters of one dtype. Names are unique; layers
// prefix theirs (e.g. "text.lstm.wx").
type ParamSet struct {
	dtype  tensor.Dtype
	list   []*Param
	byName map[string]*Param
}

// NewParamSet returns an empty set whose tensors have dtype dt
// (tensor.Float32 for training, tensor.Float64 for gradient checks).
func NewParamSet(dt tensor.Dtype) *ParamSet {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		panic("nn: ParamSet dtype must be Float32 or Float64, got " + dt.String())
	}
	return &ParamSet{dtype: dt, byName: map[string]*Param{}}
}

// Dtype returns the dtype of the parameters.
func (ps *ParamSet) Dtype() tensor.Dtype { return ps.dtype }

// Add creates a parameter. It panics on a duplicate name or a non-positive
// dimension: both are programming errors of a model definition.
func (ps *ParamSet) Add(name string, shape []int, init Initializer, rng *rand.Rand) *Param {
	if _, dup := ps.byName[name]; dup {
		panic(fmt.Sprintf("nn: duplicate parameter name %q", name))
	}
	for _, s := range shape {
		if s <= 0 {
			panic(fmt.Sprintf("nn: parameter %q has non-positive shape %v", name, shape))
		}
	}
	// Aligned backing: gonum's float32 kernels sum in an order that depends
	// on the operand's address modulo 16 (see BackingAlignment).
	t := NewAlignedDense(ps.dtype, init(rng, shape), shape...)
	p := &Param{Name: name, Shape: append([]int(nil), shape...), Value: t}
	ps.list = append(ps.list, p)
	ps.byName[name] = p
	return p
}

// Params returns the parameters in creation order.
func (ps *ParamSet) Params() []*Param { return ps.list }

// Get returns the parameter with the given name.
func (ps *ParamSet) Get(name string) (*Param, bool) { p, ok := ps.byName[name]; return p, ok }

// Names returns the sorted parameter names.
func (ps *ParamSet) Names() []string {
	n := make([]string, 0, len(ps.list))
	for _, p := range ps.list {
		n = append(n, p.Name)
	}
	sort.Strings(n)
	return n
}

// NumElements returns the total number of scalars.
func (ps *ParamSet) NumElements() int {
	n := 0
	for _, p := range ps.list {
		n += p.Size()
	}
	return n
}
