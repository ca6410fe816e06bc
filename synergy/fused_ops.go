package synergy

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers shared by the C-network's fused ops (standardize_op.go,
// kurtosis_op.go, mmd_op.go, dv_op.go). Each fused op replaces a chain of
// small gorgonia nodes by one forward op and one hand-written backward op:
// the forward op keeps its float64 intermediates in a state shared with the
// backward op (the pattern of gorgonia's own BatchNormOp), and both own
// their output buffers, so a training step allocates nothing in them.
// Arithmetic is float64 whatever the graph's dtype; float32 graphs round
// once on output. Every instance gets a process-unique id in its hash so
// that gorgonia never merges two applications.

var fusedOpCounter atomic.Uint64

// fusedHash returns the FNV-32a hash of what write writes.
func fusedHash(write func(hash.Hash)) uint32 {
	h := fnv.New32a()
	write(h)
	return h.Sum32()
}

// matrixType is a rank-2 tensor type of the op's type variable.
func matrixType() G.TensorType { return G.TensorType{Dims: 2, Of: hm.TypeVariable('a')} }

// vectorType is a rank-1 tensor type of the op's type variable.
func vectorType() G.TensorType { return G.TensorType{Dims: 1, Of: hm.TypeVariable('a')} }

// scalarType is the type of a scalar node (the bare dtype).
func scalarType() hm.Type { return hm.TypeVariable('a') }

// readFloat64s copies the entries of a float32 or float64 tensor value of
// n entries into dst (len n), in row-major order; views are materialized.
func readFloat64s(dst []float64, v G.Value, what string) error {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return fmt.Errorf("synergy: %s is %T, want *tensor.Dense", what, v)
	}
	if d.IsView() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("synergy: %s: cannot materialize a view", what)
		}
		d = m
	}
	if d.DataSize() != len(dst) {
		return fmt.Errorf("synergy: %s has shape %v (%d entries), want %d entries", what, d.Shape(), d.DataSize(), len(dst))
	}
	// Float64s and Float32s return the typed backing slice; Data() would
	// box it (one allocation per call).
	switch d.Dtype() {
	case tensor.Float64:
		copy(dst, d.Float64s())
	case tensor.Float32:
		for i, f := range d.Float32s() {
			dst[i] = float64(f)
		}
	default:
		return fmt.Errorf("synergy: %s has dtype %v, want Float32 or Float64", what, d.Dtype())
	}
	return nil
}

// scalarFloat64 returns the value of a scalar node (F32, F64 or a
// one-entry tensor).
func scalarFloat64(v G.Value, what string) (float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x), nil
	case *G.F32:
		return float64(*x), nil
	case *tensor.Dense:
		if x.Shape().TotalSize() == 1 {
			switch d := x.Data().(type) {
			case float64:
				return d, nil
			case float32:
				return float64(d), nil
			case []float64:
				return d[0], nil
			case []float32:
				return float64(d[0]), nil
			}
		}
	}
	return 0, fmt.Errorf("synergy: %s is %T, want a float scalar", what, v)
}

// scalarValue wraps x as a scalar value of dtype dt.
func scalarValue(dt tensor.Dtype, x float64) G.Value {
	if dt == tensor.Float32 {
		return G.NewF32(float32(x))
	}
	return G.NewF64(x)
}

// outputBuffer is an op-owned tensor of fixed dtype and shape.
type outputBuffer struct {
	t *tensor.Dense
}

// write stores src (float64) into the buffer, allocating it on first use,
// and returns the tensor.
func (b *outputBuffer) write(dt tensor.Dtype, shape tensor.Shape, src []float64) *tensor.Dense {
	if b.t == nil {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	if dt == tensor.Float64 {
		copy(b.t.Float64s(), src)
		return b.t
	}
	x := b.t.Float32s()
	for i, v := range src {
		x[i] = float32(v)
	}
	return b.t
}

// grow returns s resized to n entries, reusing its storage when possible.
// The entries are not cleared.
func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
