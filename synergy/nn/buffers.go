package nn

import "gorgonia.org/tensor"

// OpBuffers is a pool of the activation buffers of the ops over a row
// selection — the outputs, input gradients and kept-row copies of the
// Linear maps, the buffers of the LayerNorms, attentions, GELUs and
// dropout products, BERT's embedding lookups and gradient tables: the
// bulk of a BERT model's graph memory — that several graphs of one owner
// share, as LSTMBuffers pools the LSTMs' row buffers. A graph
// opts in with Graph.ShareOpBuffers before it is built; each op that
// takes a buffer (Graph.OpBuffer) then gets the pool's buffer keyed by what
// the buffer is for (its kind, say "Linear.y") and by how many buffers of
// that kind the graph took before, so the ops of one graph never share one,
// while the training graphs for full and for remainder batches and the
// evaluation graph use one set, each buffer grown to the largest size any
// of them asked for.
//
// The rule is LSTMBuffers': graphs sharing a pool run one at a time (a
// run, the tape machine's RunAll with the reading of its results — the
// gradients an optimizer step reads, the predictions — ends before another
// graph sharing the pool starts one). Every op writes the part of its
// buffer it and the ops after it read in a run before reading it, so the
// results are bit for bit those of unshared buffers. A pool is not safe
// for concurrent use.
type OpBuffers struct {
	bufs map[opBufferKey]*OpBuffer
}

// opBufferKey names one buffer of a pool: the use-th buffer of its kind
// taken by a graph.
type opBufferKey struct {
	kind string
	use  int
}

// NewOpBuffers returns an empty pool.
func NewOpBuffers() *OpBuffers { return &OpBuffers{bufs: map[opBufferKey]*OpBuffer{}} }

// Len returns the number of buffers in the pool.
func (p *OpBuffers) Len() int { return len(p.bufs) }

// ShareOpBuffers makes the ops added to g from now on take their pooled
// buffers from p (nil: each op its own, the default). The caller must keep
// to p's rule: the graphs sharing p run one at a time.
func (g *Graph) ShareOpBuffers(p *OpBuffers) {
	g.opBuffers = p
	g.opBufferUses = map[string]int{}
}

// SharedOpBuffers returns the pool set by ShareOpBuffers, or nil.
func (g *Graph) SharedOpBuffers() *OpBuffers { return g.opBuffers }

// OpBuffer returns the buffer for the next op of g that keeps a buffer of
// this kind: the pool's (ShareOpBuffers) or, without a pool, a buffer of
// its own.
func (g *Graph) OpBuffer(kind string) *OpBuffer {
	p := g.opBuffers
	if p == nil {
		return new(OpBuffer)
	}
	key := opBufferKey{kind: kind, use: g.opBufferUses[kind]}
	g.opBufferUses[kind]++
	b, ok := p.bufs[key]
	if !ok {
		b = new(OpBuffer)
		p.bufs[key] = b
	}
	return b
}

// OpBuffer is a buffer of float32 or float64 entries, grown on demand;
// whoever takes it rewrites what it reads (OpBuffers). Growing it replaces
// it with a zero buffer of the size asked for or, when it had entries, a
// quarter more than it had if that is larger: the kept-row copies ask for
// the running maximum of the batches' kept rows, which grows by small
// steps, each a new buffer to fault in.
type OpBuffer struct {
	f32     []float32
	f64     []float64
	written []int
}

// Written returns the list of rows (of whatever width its users agree on)
// that the users of the buffer record as written since it was last all
// zero, for a user that writes a few rows of a buffer that is zero
// elsewhere and clears only those before its next write (BERT's
// embedding-gradient tables). Growing the buffer (a new zero buffer)
// empties the list.
func (b *OpBuffer) Written() *[]int { return &b.written }

// bufferData returns the first n entries of b as []T, growing b to n
// entries if it has fewer.
func bufferData[T float32 | float64](b *OpBuffer, n int) []T {
	p, ok := any(&b.f32).(*[]T)
	if !ok {
		p = any(&b.f64).(*[]T)
	}
	if c := cap(*p); c < n {
		*p = make([]T, max(n, c+c/4))
		b.written = b.written[:0]
	}
	return (*p)[:n]
}

// Dense returns a tensor of dtype dt (Float32 or Float64) and the given
// shape over the first entries of b: t itself when it already is one (the
// previous call's result, while b has not grown), else a new header.
func (b *OpBuffer) Dense(t *tensor.Dense, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float64 {
		return denseOver(t, bufferData[float64](b, n), shape)
	}
	return denseOver(t, bufferData[float32](b, n), shape)
}

// denseOver returns t if it is a tensor of the given shape backed by d,
// else a new one.
func denseOver[T float32 | float64](t *tensor.Dense, d []T, shape []int) *tensor.Dense {
	if t != nil && len(d) > 0 && t.Shape().Eq(tensor.Shape(shape)) {
		if old, ok := t.Data().([]T); ok && len(old) == len(d) && &old[0] == &d[0] {
			return t
		}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}
