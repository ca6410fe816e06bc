package bert

import (
	"fmt"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Inputs are the three input nodes of a BERT graph for batches of a fixed
// size and length: token ids, token type ids and the attention mask, each
// (Batch, SeqLen) in the graph's dtype.
type Inputs struct {
	IDs, TypeIDs, Mask *G.Node
	Batch, SeqLen      int
}

// NewInputs creates the input nodes "<name>.input_ids",
// "<name>.token_type_ids" and "<name>.attention_mask" in g.
func NewInputs(g *nn.Graph, name string, batch, seqLen int) *Inputs {
	return &Inputs{
		IDs:     g.Input(name+".input_ids", batch, seqLen),
		TypeIDs: g.Input(name+".token_type_ids", batch, seqLen),
		Mask:    g.Input(name+".attention_mask", batch, seqLen),
		Batch:   batch, SeqLen: seqLen,
	}
}

// Feed sets the inputs from encodings (one per batch row).
func (in *Inputs) Feed(encs []Encoding) error {
	ids := make([][]int, len(encs))
	types := make([][]int, len(encs))
	mask := make([][]int, len(encs))
	for i, e := range encs {
		ids[i], types[i], mask[i] = e.IDs, e.TypeIDs, e.Mask
	}
	return in.FeedInts(ids, types, mask)
}

// FeedInts sets the inputs from integer matrices (Batch × SeqLen). typeIDs
// may be nil (all 0). It returns an error for a wrong number of rows or
// columns, a negative id, a mask value other than 0 and 1, or a mask row
// without any 1. Ids beyond the vocabulary are reported when the graph runs.
func (in *Inputs) FeedInts(ids, typeIDs, mask [][]int) error {
	if typeIDs == nil {
		typeIDs = make([][]int, len(ids))
		for i := range typeIDs {
			typeIDs[i] = make([]int, in.SeqLen)
		}
	}
	for _, f := range []struct {
		name string
		m    [][]int
		min  int
		max  int
	}{{"input_ids", ids, 0, -1}, {"token_type_ids", typeIDs, 0, -1}, {"attention_mask", mask, 0, 1}} {
		if len(f.m) != in.Batch {
			return fmt.Errorf("bert: %s has %d rows, the graph was built for batch %d", f.name, len(f.m), in.Batch)
		}
		for r, row := range f.m {
			if len(row) != in.SeqLen {
				return fmt.Errorf("bert: %s row %d has length %d, the graph was built for length %d", f.name, r, len(row), in.SeqLen)
			}
			ones := 0
			for c, v := range row {
				if v < f.min || (f.max >= 0 && v > f.max) {
					return fmt.Errorf("bert: %s[%d][%d] = %d, want %s", f.name, r, c, v, map[bool]string{true: "0 or 1", false: "a non-negative id"}[f.max == 1])
				}
				ones += v
			}
			if f.name == "attention_mask" && ones == 0 {
				return fmt.Errorf("bert: attention_mask row %d is all zeros, want at least the [CLS] position set", r)
			}
		}
	}
	for _, f := range []struct {
		n *G.Node
		m [][]int
	}{{in.IDs, ids}, {in.TypeIDs, typeIDs}, {in.Mask, mask}} {
		if err := G.Let(f.n, intsToDense(f.m, f.n.Dtype())); err != nil {
			return fmt.Errorf("bert: feed %s: %w", f.n.Name(), err)
		}
	}
	return nil
}

// intsToDense returns m as a (rows, cols) tensor of dtype dt.
func intsToDense(m [][]int, dt tensor.Dtype) *tensor.Dense {
	rows, cols := len(m), 0
	if rows > 0 {
		cols = len(m[0])
	}
	if dt == tensor.Float32 {
		v := make([]float32, 0, rows*cols)
		for _, row := range m {
			for _, x := range row {
				v = append(v, float32(x))
			}
		}
		return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))
	}
	v := make([]float64, 0, rows*cols)
	for _, row := range m {
		for _, x := range row {
			v = append(v, float64(x))
		}
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))
}
