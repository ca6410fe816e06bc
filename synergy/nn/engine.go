package nn

import (
	"sync/atomic"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// addEngine is gorgonia's CPU engine with the entrywise sum of two dense
// tensors spread over parallel.Rows' chunks: the sums a backward pass adds
// where a node feeds several ops (gorgonia's ReduceAdd of their gradients,
// four per BERT layer and seven in MAG-BERT's gate at MOSEI shapes, each
// over the whole (B·L, H) activation) otherwise run on one core. Each entry
// is a[i] + b[i] as in tensor's own loops (AddRecv, Add), whichever chunk
// computes it, so the results are bit for bit the engine's. Every other
// operation, and a sum this does not cover (addChunks), is the standard
// engine's. CompileTapeMachine gives it to the values of every machine.
type addEngine struct{ G.StandardEngine }

// Add computes a + b: with the options' reuse tensor as the result, in
// place in a under tensor.UseUnsafe, or in a new tensor; in chunks when
// addChunks takes it.
func (e addEngine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	if r := addChunks(a, b, opts); r != nil {
		return r, nil
	}
	return e.StandardEngine.Add(a, b, opts...)
}

// addChunks computes a + b entrywise into the reuse tensor of opts, into a
// when opts make the sum unsafe, else into a new tensor (gorgonia's
// forward sums that own no buffer; written in full, not first copied from a), and returns the result; it returns nil
// (nothing done) unless a, b and the result are contiguous dense tensors
// of one float dtype and shape with at least parallel.RowsMin entries, and
// opts hold no increment. Entries are independent: the chunks touch
// disjoint ranges, even when the result is a or b.
func addChunks(a, b tensor.Tensor, opts []tensor.FuncOpt) tensor.Tensor {
	ad, ok := a.(*tensor.Dense)
	if !ok || ad.Len() < parallel.RowsMin || !contiguousLike(ad, b) {
		return nil
	}
	fo := tensor.ParseFuncOpts(opts...)
	reuse, incr := fo.IncrReuse()
	var dst *tensor.Dense
	switch {
	case incr:
		return nil
	case reuse != nil:
		if !contiguousLike(ad, reuse) {
			return nil
		}
		dst = reuse.(*tensor.Dense)
	case !fo.Safe():
		dst = ad
	case !ad.DataOrder().IsRowMajor():
		return nil
	default: // a new tensor of a's dtype, shape and engine, as the standard engine's
		dst = tensor.New(tensor.Of(ad.Dtype()), tensor.WithShape(ad.Shape().Clone()...), tensor.WithEngine(ad.Engine()))
	}
	switch x := ad.Data().(type) {
	case []float32:
		addRange(dst.Data().([]float32), x, b.Data().([]float32))
	case []float64:
		addRange(dst.Data().([]float64), x, b.Data().([]float64))
	default:
		return nil
	}
	chunkedAdds.Add(1)
	return dst
}

// chunkedAdds counts the sums addChunks has computed (tests check that
// their graphs reach it).
var chunkedAdds atomic.Int64

// contiguousLike reports whether t is a dense tensor of a's dtype, shape
// and data order whose entries are read without an iterator.
func contiguousLike(a *tensor.Dense, t tensor.Tensor) bool {
	d, ok := t.(*tensor.Dense)
	return ok && d.Dtype() == a.Dtype() && d.Shape().Eq(a.Shape()) && d.DataOrder() == a.DataOrder() &&
		!d.RequiresIterator() && !a.RequiresIterator() && d.Len() == a.Len()
}

// addRange sets dst[i] = x[i] + y[i] in parallel.Rows' chunks of entries
// (optvec.Add: float32 eight at a time).
func addRange[T float32 | float64](dst, x, y []T) {
	parallel.Rows(len(dst), 1, func(lo, hi int) { optvec.Add(dst[lo:hi], x[lo:hi], y[lo:hi]) })
}
