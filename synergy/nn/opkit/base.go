package opkit

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ids is the one op-id counter of the module.
var ids atomic.Uint64

// NextID returns a number no other call in this process returns (from 1).
// Base draws the identity of stateful ops from it; a fused op's shared
// state may draw one too, to name the family in errors ("LSTM#7").
func NextID() uint64 { return ids.Add(1) }

// Base is embedded by every custom op. It provides the op's String, its
// ReturnsPtr, CallsExtern and OverwritesInput, and its WriteHash and
// Hashcode (see the package documentation for what they mean for
// gorgonia). Make one with Owned, Instance or Pure.
type Base struct {
	name       string
	id         uint64 // 0 for a pure op
	ownsOutput bool
}

// Owned returns the Base of a stateful op that returns a buffer it owns.
// name is how the op prints (for example "LSTM#7" or "Linear#3.dW").
func Owned(name string) Base { return Base{name: name, id: NextID(), ownsOutput: true} }

// Instance returns the Base of a stateful op that returns fresh values
// (a scalar term whose backward op reads the state the forward run left).
func Instance(name string) Base { return Base{name: name, id: NextID()} }

// Pure returns the Base of a stateless op that returns fresh values. name
// identifies the function with all its parameters: gorgonia merges two
// applications of pure ops of equal name to the same inputs.
func Pure(name string) Base { return Base{name: name} }

// String returns the name given to the constructor.
func (b Base) String() string { return b.name }

// ID returns the op's process-unique id, 0 for a pure op.
func (b Base) ID() uint64 { return b.id }

// ReturnsPtr reports whether the op returns a buffer it owns (Owned).
func (b Base) ReturnsPtr() bool { return b.ownsOutput }

// CallsExtern is false: every op runs on the CPU in Go (or C through cgo,
// which gorgonia need not know).
func (Base) CallsExtern() bool { return false }

// OverwritesInput is −1: no op writes into its inputs.
func (Base) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity: its name and, for a stateful op,
// its id.
func (b Base) WriteHash(h hash.Hash) {
	io.WriteString(h, "synergo:")
	io.WriteString(h, b.name)
	if b.id != 0 {
		io.WriteString(h, "#")
		io.WriteString(h, strconv.FormatUint(b.id, 10))
	}
}

// Hashcode is the FNV-32a hash of what WriteHash writes.
func (b Base) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

// CheckArity returns an error naming the op unless it got n input values.
func (b Base) CheckArity(vals []G.Value, n int) error {
	if len(vals) != n {
		return fmt.Errorf("%s: got %d inputs, want %d", b.name, len(vals), n)
	}
	return nil
}

// Errorf returns an error that starts with the op's name.
func (b Base) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", b.name, fmt.Errorf(format, args...))
}

// AllTrue returns n true values: the DiffWRT of an op differentiable with
// respect to every input.
func AllTrue(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// Unary is the Base of a one-input op whose output has its input's type
// and shape (an elementwise map, StopGradient, a matrix inverse).
type Unary struct{ Base }

// Arity is 1.
func (Unary) Arity() int { return 1 }

// Type is a → a.
func (Unary) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

// Input checks that vals is one value and returns it as a contiguous
// *tensor.Dense (Contiguous).
func (u Unary) Input(vals []G.Value) (*tensor.Dense, error) {
	if err := u.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	return Contiguous(vals[0], u.name+" input")
}

// InferShape returns the input's shape.
func (u Unary) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: got %d input shapes, want 1", u.name, len(in))
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: input shape is %T", u.name, in[0])
	}
	return s.Clone(), nil
}
