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

// bfloat16ToFloat64 converts bfloat16 bits (the upper half of a float32).
func bfloat16ToFloat64(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}
