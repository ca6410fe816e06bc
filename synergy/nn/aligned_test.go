package nn

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"gorgonia.org/tensor"
)

// TestAlignedBacking checks that aligned slices, NewAlignedDense tensors and
// parameters start at a multiple of BackingAlignment for every length from 1
// (the sizes Go's allocator only 8-byte aligns included), with the requested
// length and values.
func TestAlignedBacking(t *testing.T) {
	var keep []any // interleave allocations so start addresses vary
	for n := 1; n <= 40; n++ {
		keep = append(keep, make([]byte, n))
		f32 := AlignedFloat32s(n)
		f64 := AlignedFloat64s(n)
		if len(f32) != n || cap(f32) != n || len(f64) != n || cap(f64) != n {
			t.Fatalf("n=%d: len/cap %d/%d and %d/%d", n, len(f32), cap(f32), len(f64), cap(f64))
		}
		if a := uintptr(unsafe.Pointer(&f32[0])) % BackingAlignment; a != 0 {
			t.Errorf("AlignedFloat32s(%d) starts %d bytes past a %d-byte boundary", n, a, BackingAlignment)
		}
		if a := uintptr(unsafe.Pointer(&f64[0])) % BackingAlignment; a != 0 {
			t.Errorf("AlignedFloat64s(%d) starts %d bytes past a %d-byte boundary", n, a, BackingAlignment)
		}
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(i) + 0.5
		}
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			d := NewAlignedDense(dt, values, 1, n)
			if a := d.Uintptr() % BackingAlignment; a != 0 {
				t.Errorf("NewAlignedDense(%v, %d values) starts %d bytes past a boundary", dt, n, a)
			}
			if !d.Shape().Eq(tensor.Shape{1, n}) {
				t.Errorf("NewAlignedDense(%v): shape %v, want (1, %d)", dt, d.Shape(), n)
			}
			var got []float64
			switch v := d.Data().(type) {
			case []float32:
				for _, x := range v {
					got = append(got, float64(x))
				}
			case []float64:
				got = v
			}
			for i := range values {
				if got[i] != values[i] {
					t.Fatalf("NewAlignedDense(%v)[%d] = %v, want %v", dt, i, got[i], values[i])
				}
			}
			ps := NewParamSet(dt)
			p := ps.Add("p", []int{n}, Uniform(1), rand.New(rand.NewPCG(1, uint64(n))))
			if a := p.Value.Uintptr() % BackingAlignment; a != 0 {
				t.Errorf("%v parameter of %d entries starts %d bytes past a boundary", dt, n, a)
			}
		}
	}
	_ = keep
}
