package nn

import (
	"unsafe"

	"gorgonia.org/tensor"
)

// BackingAlignment is the byte alignment of the first element of every
// slice from AlignedFloat32s and AlignedFloat64s (and so of every parameter
// tensor): one cache line, a multiple of the 16 bytes of an SSE register.
//
// Why it matters: gonum's float32 assembly kernels (f32.DotUnitary, used by
// Sgemm for A·Bᵀ and by Sgemv; f32.Sum) add the leading elements one by one
// until the operand is 16-byte aligned and only then switch to 4-wide
// vector partial sums, so the order of the additions — and the float32
// result — depends on the operand's address modulo 16. Go's allocator only
// guarantees 8-byte alignment for objects of 24 bytes or less (size class
// 24, and the tiny allocator below 16 bytes), and which address such an
// object gets depends on goroutine scheduling (per-P caches). A 5-entry
// float32 constant of ones was therefore 16-aligned in some processes and
// 8-aligned in others, and EF-LSTM's batch-norm γ and β gradients differed
// in the last bits between processes with the same seed (issue #4).
const BackingAlignment = 64

// AlignedFloat32s returns a zeroed slice of length n whose first element's
// address is a multiple of BackingAlignment.
func AlignedFloat32s(n int) []float32 {
	const pad = BackingAlignment / 4
	buf := make([]float32, n+pad)
	skip := alignmentSkip(unsafe.Pointer(unsafe.SliceData(buf)), 4)
	return buf[skip : skip+n : skip+n]
}

// AlignedFloat64s returns a zeroed slice of length n whose first element's
// address is a multiple of BackingAlignment.
func AlignedFloat64s(n int) []float64 {
	const pad = BackingAlignment / 8
	buf := make([]float64, n+pad)
	skip := alignmentSkip(unsafe.Pointer(unsafe.SliceData(buf)), 8)
	return buf[skip : skip+n : skip+n]
}

// alignmentSkip returns how many elements of the given size to skip from p
// to reach the next multiple of BackingAlignment. Go's heap does not move
// objects, so the alignment holds for the slice's lifetime.
func alignmentSkip(p unsafe.Pointer, size uintptr) int {
	rem := uintptr(p) % BackingAlignment
	if rem == 0 {
		return 0
	}
	return int((BackingAlignment - rem) / size)
}

// NewAlignedDense returns values (converted to dt, tensor.Float32 or
// tensor.Float64) as a dense tensor of the given shape whose backing slice
// starts at a multiple of BackingAlignment. Parameters (ParamSet.Add) and
// constants that feed gonum's BLAS kernels use it so that float32 results do
// not depend on where the allocator placed them.
func NewAlignedDense(dt tensor.Dtype, values []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		f := AlignedFloat64s(len(values))
		copy(f, values)
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	f := AlignedFloat32s(len(values))
	for i, v := range values {
		f[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}
