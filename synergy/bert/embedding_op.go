package bert

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// lookupRows returns table[ids]: for a table (V, H) and integer-valued ids
// (B, L) stored in the graph's float dtype, the (B, L, H) tensor whose
// [b, l, :] is row ids[b, l] of the table. Its gradient with respect to the
// table is the scatter-add of the output gradient into the rows named by
// ids; ids get no gradient. An id that is not an integer in [0, V) is an
// error at run time naming the table. The gradient's table is a buffer of
// g (nn.Graph.OpBuffer: pooled among graphs that share op buffers).
func lookupRows(g *nn.Graph, table, ids *G.Node, name string) (*G.Node, error) {
	if table.Dims() != 2 || ids.Dims() != 2 {
		return nil, fmt.Errorf("bert: %s lookup: table %v must be (vocab, dim) and ids %v (batch, length)", name, table.Shape(), ids.Shape())
	}
	if table.Dtype() != ids.Dtype() {
		return nil, fmt.Errorf("bert: %s lookup: ids dtype %v, table dtype %v", name, ids.Dtype(), table.Dtype())
	}
	op := newLookupOp(name, table.Shape()[0], table.Shape()[1])
	op.y, op.grad = g.OpBuffer("bert.Lookup("+name+")"), g.OpBuffer("bert.ScatterRows("+name+")")
	return G.ApplyOp(op, table, ids)
}

// lookupOp(table, ids) → table[ids] into its buffer y (owned: rewritten
// in full on every run). grad is the buffer of its gradient's table
// (scatterRowsOp).
type lookupOp struct {
	opkit.Base
	name      string
	rows, dim int
	y, grad   *nn.OpBuffer
	out       *tensor.Dense // the last run's output, over y
}

func newLookupOp(name string, rows, dim int) *lookupOp {
	return &lookupOp{Base: opkit.Owned(fmt.Sprintf("bert.Lookup(%s %d×%d)", name, rows, dim)), name: name, rows: rows, dim: dim}
}

func (op *lookupOp) Arity() int    { return 2 }
func (op *lookupOp) Type() hm.Type { return opkit.FnType(2, 2, 3) }

func (op *lookupOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[1].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("bert: %v: ids shape %v, want (batch, length)", op, in[1])
	}
	return tensor.Shape{s[0], s[1], op.dim}, nil
}

func (op *lookupOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 2); err != nil {
		return nil, err
	}
	table, err := opkit.Contiguous(in[0], op.String()+" table")
	if err != nil {
		return nil, err
	}
	ids, err := rowIndices(in[1], op.rows, op.name)
	if err != nil {
		return nil, err
	}
	s := in[1].Shape()
	op.out = op.y.Dense(op.out, table.Dtype(), s[0], s[1], op.dim)
	switch t := table.Data().(type) {
	case []float64:
		gatherRows(op.out.Data().([]float64), t, ids, op.dim)
	case []float32:
		gatherRows(op.out.Data().([]float32), t, ids, op.dim)
	default:
		return nil, op.Errorf("unsupported dtype %v", table.Dtype())
	}
	return op.out, nil
}

func (op *lookupOp) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff returns the scatter-add of grad into a zero (V, H) table. When
// the table has another use in the graph (the graph is whole by the time
// gradients are built), gorgonia sums the table's gradients and may add in
// place into the scatter's table, rows the scatter did not write: the
// scatter then clears its whole table on every run.
func (op *lookupOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	table := inputs[0]
	scatter := &scatterRowsOp{Base: opkit.Owned(fmt.Sprintf("bert.ScatterRows(%s %d×%d)", op.name, op.rows, op.dim)), lookup: op,
		clearAll: table.Graph().To(table.ID()).Len() > 1}
	d, err := G.ApplyOp(scatter, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	return G.Nodes{d, nil}, nil
}

// scatterRowsOp(grad (B, L, H), ids (B, L)) → (V, H) with row r the sum of
// grad[b, l, :] over the positions where ids[b, l] = r, into a table it
// keeps (the lookup's grad buffer): a fresh (V, H) table per step (16 MB
// for BERT's word embeddings) costs page faults wherever it is touched
// first (the clip and the optimizer then). On every run it clears the rows
// the previous run wrote (the buffer's Written list; the clip keeps zeros
// zero, the optimizer only reads, nothing else writes the table) rather
// than the whole table — or the whole table when clearAll (a table with
// more than one use: see lookupOp.SymDiff).
type scatterRowsOp struct {
	opkit.Base
	lookup   *lookupOp
	buf      *tensor.Dense
	clearAll bool
}

func (op *scatterRowsOp) Arity() int    { return 2 }
func (op *scatterRowsOp) Type() hm.Type { return opkit.FnType(3, 2, 2) }
func (op *scatterRowsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.lookup.rows, op.lookup.dim}, nil
}

func (op *scatterRowsOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 2); err != nil {
		return nil, err
	}
	grad, err := opkit.Contiguous(in[0], op.String()+" gradient")
	if err != nil {
		return nil, err
	}
	ids, err := rowIndices(in[1], op.lookup.rows, op.lookup.name)
	if err != nil {
		return nil, err
	}
	dim := op.lookup.dim
	op.buf = op.lookup.grad.Dense(op.buf, grad.Dtype(), op.lookup.rows, dim)
	written := op.lookup.grad.Written()
	if op.clearAll {
		written = nil
	}
	switch g := grad.Data().(type) {
	case []float64:
		scatterAddRows(op.buf.Data().([]float64), g, ids, dim, written)
	case []float32:
		scatterAddRows(op.buf.Data().([]float32), g, ids, dim, written)
	default:
		return nil, op.Errorf("unsupported dtype %v", grad.Dtype())
	}
	if op.clearAll { // gorgonia may write any row: the buffer's next user clears them all
		all := (*op.lookup.grad.Written())[:0]
		for r := range op.lookup.rows {
			all = append(all, r)
		}
		*op.lookup.grad.Written() = all
	}
	return op.buf, nil
}

func (op *scatterRowsOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op *scatterRowsOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("bert: second derivative of an embedding lookup is not implemented")
}

// gatherRows writes the rows ids of the (·, dim) table t into out, one
// after another, in parallel.Rows' chunks of ids.
func gatherRows[T float32 | float64](out, t []T, ids []int, dim int) {
	parallel.Rows(len(ids), dim, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := ids[i]
			copy(out[i*dim:(i+1)*dim], t[r*dim:(r+1)*dim])
		}
	})
}

// scatterAddRows overwrites out (rows, dim) with the matrix whose row r is
// the sum of the rows i of g (len(ids), dim) with ids[i] = r, for an out
// that is 0 but in the rows listed in written (nil: clear all of out); it
// lists the rows it writes in written. Each entry of a row sums its terms
// in the order of ids (a repeated id: a word used twice), whatever the
// chunk: the columns are cut into parallel.Rows' chunks, each of which
// clears and sums its columns over all of ids.
func scatterAddRows[T float32 | float64](out, g []T, ids []int, dim int, written *[]int) {
	if written == nil {
		clear(out)
	}
	parallel.Rows(dim, len(ids), func(j0, j1 int) {
		if written != nil {
			for _, r := range *written {
				clear(out[r*dim+j0 : r*dim+j1])
			}
		}
		for i, r := range ids {
			dst := out[r*dim+j0 : r*dim+j1]
			optvec.Add(dst, dst, g[i*dim+j0:i*dim+j1])
		}
	})
	if written != nil {
		*written = append((*written)[:0], ids...)
	}
}

// rowIndices converts float-encoded ids to ints, checking that each is an
// integer in [0, rows).
func rowIndices(v G.Value, rows int, name string) ([]int, error) {
	t, err := opkit.Contiguous(v, "bert: "+name+" ids")
	if err != nil {
		return nil, err
	}
	var vals []float64
	switch d := t.Data().(type) {
	case []float64:
		vals = d
	case []float32:
		vals = make([]float64, len(d))
		for i, x := range d {
			vals[i] = float64(x)
		}
	default:
		return nil, fmt.Errorf("bert: %s ids: unsupported dtype %v", name, t.Dtype())
	}
	cols := 1
	if s := t.Shape(); len(s) == 2 {
		cols = s[1]
	}
	out := make([]int, len(vals))
	for i, x := range vals {
		if x != math.Trunc(x) || x < 0 || x >= float64(rows) {
			return nil, fmt.Errorf("bert: %s: id %v at [%d, %d] is not an integer in [0, %d)", name, x, i/cols, i%cols, rows)
		}
		out[i] = int(x)
	}
	return out, nil
}
