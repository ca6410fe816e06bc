package nn

import "gorgonia.org/tensor"

// LSTMBuffers is a pool of LSTM row buffers — the per-valid-pair
// activations an LSTM op keeps from its forward pass for its backward pass
// (inputs, gates, h_{t−1}, c_{t−1}, tanh c̃; see lstmKernel), the bulk of
// its memory — that several graphs of one owner share. A graph opts in
// with Graph.ShareLSTMBuffers before it is built; its LSTM ops then take
// their row buffers from the pool, keyed by the layer and by how many
// times the layer ran before in that graph (so the ops of one graph never
// share, while a layer's op in a training graph for full batches, in one
// for the remainder batch and in an evaluation graph all use one set,
// grown to the most valid pairs any of them saw).
//
// The rule: graphs sharing a pool run one at a time — a run (the tape
// machine's RunAll: one forward pass and, in a training graph, its backward
// pass) ends before another graph sharing the pool starts one. Every
// forward pass writes the rows it and its backward pass read before
// reading them, so the results are bit for bit those of unshared buffers;
// a run that overlapped another graph's run would read the other's rows.
// synergy/train's Trainer, which runs its graphs in turn, shares one pool
// among its training and evaluation graphs. A pool is not safe for
// concurrent use.
type LSTMBuffers struct {
	rows map[lstmBuffersKey]any // *lstmRows[float32] or *lstmRows[float64]
}

// lstmBuffersKey names one set of row buffers: the layer's use-th op in a
// graph of dtype dtype.
type lstmBuffersKey struct {
	layer *LSTM
	use   int
	dtype tensor.Dtype
}

// NewLSTMBuffers returns an empty pool.
func NewLSTMBuffers() *LSTMBuffers {
	return &LSTMBuffers{rows: map[lstmBuffersKey]any{}}
}

// Len returns the number of row-buffer sets in the pool: one per LSTM op of
// the graph sharing it that has the most of them (for each layer, the most
// uses in one graph).
func (p *LSTMBuffers) Len() int { return len(p.rows) }

// ShareLSTMBuffers makes the LSTM ops that Forward adds to g from now on
// take their row buffers from p (nil: each op its own, the default). The
// caller must keep to p's rule: the graphs sharing p run one at a time.
func (g *Graph) ShareLSTMBuffers(p *LSTMBuffers) {
	g.lstmBuffers = p
	g.lstmUses = map[*LSTM]int{}
}

// SharedLSTMBuffers returns the pool g's LSTMs take their row buffers
// from (ShareLSTMBuffers), or nil.
func (g *Graph) SharedLSTMBuffers() *LSTMBuffers { return g.lstmBuffers }

// lstmRowBuffers returns the row buffers (*lstmRows of g's dtype) for the
// next op of layer l in g: nil without a pool, else the pool's set for
// this use of l, created on first use.
func (g *Graph) lstmRowBuffers(l *LSTM) any {
	p := g.lstmBuffers
	if p == nil {
		return nil
	}
	key := lstmBuffersKey{layer: l, use: g.lstmUses[l], dtype: g.Dtype}
	g.lstmUses[l]++
	if rb, ok := p.rows[key]; ok {
		return rb
	}
	var rb any = new(lstmRows[float32])
	if g.Dtype == tensor.Float64 {
		rb = new(lstmRows[float64])
	}
	p.rows[key] = rb
	return rb
}
