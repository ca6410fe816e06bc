package opkit

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Contiguous returns v as a *tensor.Dense with its own contiguous data: a
// view (a column slice, a transpose) is materialized into a copy. what
// names the value in the error.
func Contiguous(v G.Value, what string) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s is %T, want *tensor.Dense", what, v)
	}
	if !d.IsView() {
		return d, nil
	}
	m, ok := d.Materialize().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: cannot materialize a view", what)
	}
	return m, nil
}

// Data returns the backing slice ([]float32 or []float64) of v after
// checking that it is a dense tensor of dtype dt with want.TotalSize()
// entries, of shape want when it has want's rank; views are materialized.
func Data(v G.Value, dt tensor.Dtype, want tensor.Shape, what string) (any, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s is %T, want *tensor.Dense", what, v)
	}
	if d.Dtype() != dt {
		return nil, fmt.Errorf("%s has dtype %v, want %v", what, d.Dtype(), dt)
	}
	if s := d.Shape(); s.TotalSize() != want.TotalSize() || (len(s) == len(want) && !s.Eq(want)) {
		return nil, fmt.Errorf("%s has shape %v, want %v", what, s, want)
	}
	d, err := Contiguous(d, what)
	if err != nil {
		return nil, err
	}
	return d.Data(), nil
}

// Float64s copies the n = len(dst) entries of a float32 or float64 tensor
// value into dst in row-major order (views are materialized), for ops that
// compute in float64 whatever the graph's dtype.
func Float64s(dst []float64, v G.Value, what string) error {
	d, err := Contiguous(v, what)
	if err != nil {
		return err
	}
	if d.DataSize() != len(dst) {
		return fmt.Errorf("%s has shape %v (%d entries), want %d entries", what, d.Shape(), d.DataSize(), len(dst))
	}
	// Float64s and Float32s return the typed backing slice; Data() would
	// box it (one allocation per call).
	switch d.Dtype() {
	case tensor.Float64:
		copy(dst, d.Float64s())
	case tensor.Float32:
		widen(dst, d.Float32s())
	default:
		return fmt.Errorf("%s has dtype %v, want Float32 or Float64", what, d.Dtype())
	}
	return nil
}

// Float64View returns the entries of a float32 or float64 tensor value as
// float64s: the backing slice itself for float64 (do not modify it), a
// new copy for float32.
func Float64View(v G.Value, what string) ([]float64, error) {
	d, err := Contiguous(v, what)
	if err != nil {
		return nil, err
	}
	switch x := d.Data().(type) {
	case []float64:
		return x, nil
	case []float32:
		f := make([]float64, len(x))
		for i, v := range x {
			f[i] = float64(v)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s has dtype %v, want Float32 or Float64", what, d.Dtype())
}

// Float64Copy returns a new slice with the entries of a float32 or float64
// value (a tensor, in row-major order, or a scalar).
func Float64Copy(v G.Value, what string) ([]float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return []float64{float64(*x)}, nil
	case *G.F32:
		return []float64{float64(*x)}, nil
	}
	f, err := Float64View(v, what)
	if err != nil {
		return nil, err
	}
	if _, view := v.Data().([]float64); view {
		f = append([]float64(nil), f...)
	}
	return f, nil
}

// Float64 returns the value of a scalar node (F32, F64 or a one-entry
// tensor).
func Float64(v G.Value, what string) (float64, error) {
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
	return 0, fmt.Errorf("%s is %T, want a float scalar", what, v)
}

// ScalarValue wraps x as a scalar value of dtype dt (Float32 or Float64).
func ScalarValue(dt tensor.Dtype, x float64) G.Value {
	if dt == tensor.Float32 {
		return G.NewF32(float32(x))
	}
	return G.NewF64(x)
}

// Buffer is an op-owned output tensor of fixed dtype and shape, allocated
// on first use and rewritten in full on every run.
type Buffer struct{ t *tensor.Dense }

// Write stores src (float64, rounded once to dtype dt) into the buffer and
// returns it.
func (b *Buffer) Write(dt tensor.Dtype, shape tensor.Shape, src []float64) *tensor.Dense {
	if b.t == nil {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	if dt == tensor.Float64 {
		copy(b.t.Float64s(), src)
		return b.t
	}
	narrow(b.t.Float32s(), src)
	return b.t
}

// widen sets dst[i] = float64(src[i]) (exact) for i < len(src); on amd64
// with AVX four at a time (widenKernel).
func widen(dst []float64, src []float32) {
	dst = dst[:len(src)]
	i := 0
	if widenKernel != nil && len(src) >= 4 {
		i = len(src) &^ 3
		widenKernel(&dst[0], &src[0], i)
	}
	for ; i < len(src); i++ {
		dst[i] = float64(src[i])
	}
}

// narrow sets dst[i] = float32(src[i]) (rounded to nearest, ties to even)
// for i < len(src); on amd64 with AVX four at a time (narrowKernel, the
// same rounding).
func narrow(dst []float32, src []float64) {
	dst = dst[:len(src)]
	i := 0
	if narrowKernel != nil && len(src) >= 4 {
		i = len(src) &^ 3
		narrowKernel(&dst[0], &src[0], i)
	}
	for ; i < len(src); i++ {
		dst[i] = float32(src[i])
	}
}

// Grow returns s resized to n entries, reusing its storage when it can.
// The entries are not cleared.
func Grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
