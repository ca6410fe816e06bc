package bert

import (
	"fmt"
	"math"
	"sort"
)

// Tensor is one named array of a checkpoint, converted to float64 (every
// supported storage type converts exactly). Data is row-major.
type Tensor struct {
	Name  string
	Dtype string // storage type in the file: "F32", "F16", "BF16", "F64", "I64", ...
	Shape []int
	Data  []float64
}

// Tensors is a checkpoint's contents by name.
type Tensors map[string]*Tensor

// Names returns the tensor names, sorted.
func (ts Tensors) Names() []string {
	out := make([]string, 0, len(ts))
	for n := range ts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// numElements returns the product of shape, or an error if a dimension is
// negative or the product overflows limit.
func numElements(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, limit)
		}
		n *= d
	}
	return n, nil
}

// float16ToFloat64 converts IEEE 754 binary16 bits exactly (subnormals,
// infinities and NaN included).
func float16ToFloat64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// bfloat16ToFloat64 converts bfloat16 bits (the upper half of a float32).
func bfloat16ToFloat64(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}
