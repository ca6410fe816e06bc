package opkit

import (
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
)

// The types of op signatures. Every op is polymorphic in one dtype, the
// type variable a: gorgonia unifies it with the graph's Float32 or Float64.

// TensorType is a rank-dims tensor of a.
func TensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// MatrixType is a rank-2 tensor of a.
func MatrixType() G.TensorType { return TensorType(2) }

// VectorType is a rank-1 tensor of a.
func VectorType() G.TensorType { return TensorType(1) }

// ScalarType is the type of a scalar node: a itself.
func ScalarType() hm.Type { return hm.TypeVariable('a') }

// FnType is the function type from tensors of the given ranks to one of
// the last rank (at least two ranks); rank 0 stands for a scalar.
func FnType(ranks ...int) hm.Type {
	ts := make([]hm.Type, len(ranks))
	for i, r := range ranks {
		if r == 0 {
			ts[i] = ScalarType()
		} else {
			ts[i] = TensorType(r)
		}
	}
	return hm.NewFnType(ts...)
}
