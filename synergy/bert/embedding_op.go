package bert

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lookupRows returns table[ids]: for a table (V, H) and integer-valued ids
// (B, L) stored in the graph's float dtype, the (B, L, H) tensor whose
// [b, l, :] is row ids[b, l] of the table. Its gradient with respect to the
// table is the scatter-add of the output gradient into the rows named by
// ids; ids get no gradient. An id that is not an integer in [0, V) is an
// error at run time naming the table.
func lookupRows(table, ids *G.Node, name string) (*G.Node, error) {
	if table.Dims() != 2 || ids.Dims() != 2 {
		return nil, fmt.Errorf("bert: %s lookup: table %v must be (vocab, dim) and ids %v (batch, length)", name, table.Shape(), ids.Shape())
	}
	if table.Dtype() != ids.Dtype() {
		return nil, fmt.Errorf("bert: %s lookup: ids dtype %v, table dtype %v", name, ids.Dtype(), table.Dtype())
	}
	op := lookupOp{name: name, rows: table.Shape()[0], dim: table.Shape()[1]}
	return G.ApplyOp(op, table, ids)
}

// lookupOp(table, ids) → table[ids].
type lookupOp struct {
	name      string
	rows, dim int
}

func tensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

func (op lookupOp) Arity() int { return 2 }
func (op lookupOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(3))
}

func (op lookupOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[1].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("bert: %v: ids shape %v, want (batch, length)", op, in[1])
	}
	return tensor.Shape{s[0], s[1], op.dim}, nil
}

func (op lookupOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("bert: %v: got %d inputs, want 2", op, len(in))
	}
	table, err := denseOf(in[0], op)
	if err != nil {
		return nil, err
	}
	ids, err := rowIndices(in[1], op.rows, op.name)
	if err != nil {
		return nil, err
	}
	s := in[1].Shape()
	shape := tensor.Shape{s[0], s[1], op.dim}
	switch t := table.Data().(type) {
	case []float64:
		out := make([]float64, len(ids)*op.dim)
		for i, r := range ids {
			copy(out[i*op.dim:(i+1)*op.dim], t[r*op.dim:(r+1)*op.dim])
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	case []float32:
		out := make([]float32, len(ids)*op.dim)
		for i, r := range ids {
			copy(out[i*op.dim:(i+1)*op.dim], t[r*op.dim:(r+1)*op.dim])
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	}
	return nil, fmt.Errorf("bert: %v: unsupported dtype %v", op, table.Dtype())
}

func (op lookupOp) ReturnsPtr() bool      { return false }
func (op lookupOp) CallsExtern() bool     { return false }
func (op lookupOp) OverwritesInput() int  { return -1 }
func (op lookupOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op lookupOp) Hashcode() uint32      { return hashOf(op) }
func (op lookupOp) String() string {
	return fmt.Sprintf("bert.Lookup(%s %d×%d)", op.name, op.rows, op.dim)
}
func (op lookupOp) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff returns the scatter-add of grad into a zero (V, H) table.
func (op lookupOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(scatterRowsOp{op}, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	return G.Nodes{d, nil}, nil
}

// scatterRowsOp(grad (B, L, H), ids (B, L)) → (V, H) with row r the sum of
// grad[b, l, :] over the positions where ids[b, l] = r.
type scatterRowsOp struct{ lookup lookupOp }

func (op scatterRowsOp) Arity() int { return 2 }
func (op scatterRowsOp) Type() hm.Type {
	return hm.NewFnType(tensorType(3), tensorType(2), tensorType(2))
}
func (op scatterRowsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.lookup.rows, op.lookup.dim}, nil
}

func (op scatterRowsOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("bert: %v: got %d inputs, want 2", op, len(in))
	}
	grad, err := denseOf(in[0], op)
	if err != nil {
		return nil, err
	}
	ids, err := rowIndices(in[1], op.lookup.rows, op.lookup.name)
	if err != nil {
		return nil, err
	}
	dim := op.lookup.dim
	shape := tensor.Shape{op.lookup.rows, dim}
	switch g := grad.Data().(type) {
	case []float64:
		out := make([]float64, op.lookup.rows*dim)
		for i, r := range ids {
			dst, src := out[r*dim:(r+1)*dim], g[i*dim:(i+1)*dim]
			for j := range dst {
				dst[j] += src[j]
			}
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	case []float32:
		out := make([]float32, op.lookup.rows*dim)
		for i, r := range ids {
			dst, src := out[r*dim:(r+1)*dim], g[i*dim:(i+1)*dim]
			for j := range dst {
				dst[j] += src[j]
			}
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	}
	return nil, fmt.Errorf("bert: %v: unsupported dtype %v", op, grad.Dtype())
}

func (op scatterRowsOp) ReturnsPtr() bool      { return false }
func (op scatterRowsOp) CallsExtern() bool     { return false }
func (op scatterRowsOp) OverwritesInput() int  { return -1 }
func (op scatterRowsOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op scatterRowsOp) Hashcode() uint32      { return hashOf(op) }
func (op scatterRowsOp) String() string {
	return fmt.Sprintf("bert.ScatterRows(%s %d×%d)", op.lookup.name, op.lookup.rows, op.lookup.dim)
}
func (op scatterRowsOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op scatterRowsOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("bert: second derivative of an embedding lookup is not implemented")
}

func hashOf(s fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, s.String())
	return h.Sum32()
}

// denseOf returns v as a contiguous *tensor.Dense.
func denseOf(v G.Value, op fmt.Stringer) (*tensor.Dense, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("bert: %v: input is %T, want *tensor.Dense", op, v)
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	return t, nil
}

// rowIndices converts float-encoded ids to ints, checking that each is an
// integer in [0, rows).
func rowIndices(v G.Value, rows int, name string) ([]int, error) {
	t, err := denseOf(v, lookupOp{name: name})
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
