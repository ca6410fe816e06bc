package nn

import (
	"fmt"

	"github.com/synergo/synergo/internal/parallel"

	G "gorgonia.org/gorgonia"
)

// rowSubset is the set of rows an op with a row selection computes on
// this run (Linear.ForwardRows, MultiHeadAttentionRows,
// LayerNorm.ForwardRows, GeluRows, Graph.DropoutRows): the rows i with
// keep[i] ≠ 0 of a selection node keep (BERT's attention mask), read when
// the op runs. A Linear gathers the kept rows of its input (once per run
// for the forward pass and dW, once for dX and dW: keptCopy) and its GEMM
// writes the product's rows in place in the op's output
// (internal/gemm.CallRows); the row-wise ops visit the runs of kept rows
// in place.
type rowSubset struct {
	idx []int  // the kept rows, increasing
	on  []bool // on[i]: row i is kept
	all bool   // every row is kept (no selection, or one without zeros)
}

// read reads the selection keep (nil: none) of rows entries and records
// the kept rows; it reports false (compute every row) when keep is nil or
// keeps every row.
func (r *rowSubset) read(keep *G.Node, rows int, what string) (bool, error) {
	r.all = true
	if keep == nil {
		return false, nil
	}
	v := keep.Value()
	if v == nil {
		return false, fmt.Errorf("%s: row selection %s has no value", what, keep.Name())
	}
	var err error
	switch d := v.Data().(type) {
	case []float32:
		err = recordRows(r, d, rows, what)
	case []float64:
		err = recordRows(r, d, rows, what)
	default:
		return false, fmt.Errorf("%s: row selection of %T", what, d)
	}
	if err != nil {
		return false, err
	}
	r.all = len(r.idx) == rows
	return !r.all, nil
}

// recordRows sets r to the rows whose entry of keep (one per row) is
// nonzero.
func recordRows[T float32 | float64](r *rowSubset, keep []T, rows int, what string) error {
	r.idx = r.idx[:0]
	if cap(r.on) < rows {
		r.on = make([]bool, rows)
	}
	r.on = r.on[:rows]
	clear(r.on)
	if len(keep) != rows {
		return fmt.Errorf("%s: row selection has %d entries for %d rows", what, len(keep), rows)
	}
	for i, k := range keep {
		if k != 0 {
			r.idx = append(r.idx, i)
			r.on[i] = true
		}
	}
	return nil
}

// visit calls kept(lo, hi) on each maximal run [lo, hi) of kept rows in
// [r0, r1) and dropped(lo, hi) on each run of the others, in row order;
// when every row is kept (read reported false) it calls kept(r0, r1).
func (r *rowSubset) visit(r0, r1 int, kept, dropped func(lo, hi int)) {
	if r.all {
		if r0 < r1 {
			kept(r0, r1)
		}
		return
	}
	for lo := r0; lo < r1; {
		hi := lo + 1
		for hi < r1 && r.on[hi] == r.on[lo] {
			hi++
		}
		if r.on[lo] {
			kept(lo, hi)
		} else {
			dropped(lo, hi)
		}
		lo = hi
	}
}

// clearRows returns a function that zeros rows [lo, hi) of m (rows of n
// entries), for visit's dropped runs.
func clearRows[T float32 | float64](m []T, n int) func(lo, hi int) {
	return func(lo, hi int) { clear(m[lo*n : hi*n]) }
}

// visitRows is visit over rows [0, rows) of width entries each, in parallel.Rows'
// chunks: kept and dropped must touch only their own rows.
func (r *rowSubset) visitRows(rows, width int, kept, dropped func(lo, hi int)) {
	parallel.Rows(rows, width, func(lo, hi int) { r.visit(lo, hi, kept, dropped) })
}

// RowSelection is the row selection of an op outside this package that
// computes only the rows i with keep[i] ≠ 0 of a selection node keep, as
// the ops of Linear.ForwardRows do (MAG-BERT's gate).
type RowSelection struct{ r rowSubset }

// Read reads the selection keep (nil: none) of rows entries when the op
// runs; it reports false (compute every row) when keep is nil or keeps
// every row.
func (s *RowSelection) Read(keep *G.Node, rows int, what string) (bool, error) {
	return s.r.read(keep, rows, what)
}

// VisitRows calls kept(lo, hi) on each maximal run [lo, hi) of kept rows
// and dropped(lo, hi) on each run of the others (every row kept when Read
// reported false), rows of width entries, in parallel chunks: kept and
// dropped must touch only their own rows.
func (s *RowSelection) VisitRows(rows, width int, kept, dropped func(lo, hi int)) {
	s.r.visitRows(rows, width, kept, dropped)
}
