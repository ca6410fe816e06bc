package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
)

// Graph wraps one gorgonia expression graph together with the nodes it has
// bound to parameters, its input nodes and its dropout masks. Build one Graph
// per batch shape for training and one forward-only Graph (Train == false)
// for evaluation; all of them bind the same parameter tensors.
type Graph struct {
	G     *G.ExprGraph
	Dtype tensor.Dtype
	// Train is true for a training graph: Dropout inserts a mask input.
	// In an evaluation graph Dropout is the identity.
	Train bool

	params  map[*Param]*G.Node
	order   []*Param
	inputs  map[string]*G.Node
	masks   []*mask
	counter int
	// fed holds the tensors InputTensor hands out, one per input node.
	fed map[*G.Node]*tensor.Dense
	// lstmBuffers is the pool of LSTM row buffers the graph shares
	// (ShareLSTMBuffers; nil: none) and lstmUses counts the ops of each
	// layer added so far, the key of the next one's buffers.
	lstmBuffers *LSTMBuffers
	lstmUses    map[*LSTM]int
	// opBuffers is the pool of op buffers the graph shares (ShareOpBuffers;
	// nil: none) and opBufferUses counts the buffers of each kind taken so
	// far, the key of the next one.
	opBuffers    *OpBuffers
	opBufferUses map[string]int
}

type mask struct {
	node *G.Node
	p    float64
	// buf is the mask's value, allocated on first use and rewritten in full
	// by every SampleMasks or SetMasksToOne; f32 or f64 is its backing.
	buf *tensor.Dense
	f32 []float32
	f64 []float64
	// drops, for a mask without node (Graph.dropMask), holds its size
	// entries one byte each: 1 where the entry is dropped (0), 0 where it
	// is kept and equal to scale (1/(1−p) after SampleMasks, 1 after
	// SetMasksToOne).
	drops []uint8
	size  int
	scale float64
	// rows, for a DropoutRows mask (rows of width entries), is where
	// SampleMasksPCG left its draws: the mask's entries are drawn by the
	// ops that read them, on the rows they keep (mask.drawRows).
	rows *lazyRows
}

// lazyRows is the state of a mask drawn row by row when read: after
// SampleMasksPCG(seed1, seed2), entry e of the mask is the stream's draw
// first + e; drawn[i] records that row i holds its draws. pending is false
// when every entry is drawn (SampleMasks, SetMasksToOne).
type lazyRows struct {
	width               int
	pending             bool
	seed1, seed2, first uint64
	drawn               []bool
}

// drawRows draws rows [lo, hi) of a lazily drawn mask that are not drawn
// yet — each run of them from a generator at its first draw (pcgJump) —
// bit for bit what SampleMasksPCG draws into them. It does nothing for a
// mask drawn in full. Calls on disjoint rows may run concurrently.
func (m *mask) drawRows(lo, hi int) {
	r := m.rows
	if r == nil || !r.pending {
		return
	}
	w := r.width
	for i := lo; i < hi; {
		if r.drawn[i] {
			i++
			continue
		}
		j := i
		for j < hi && !r.drawn[j] {
			r.drawn[j] = true
			j++
		}
		s1, s2 := pcgJump(r.seed1, r.seed2, r.first+uint64(i*w))
		m.fillPCG(i*w, j*w, pcgStream{s1, s2})
		i = j
	}
}

// allocate creates the mask's reused value tensor (or bytes) on first
// use.
func (m *mask) allocate(dt tensor.Dtype) {
	if m.node == nil {
		if m.drops == nil {
			m.drops = make([]uint8, m.size)
		}
		return
	}
	if m.buf != nil {
		return
	}
	shape := m.node.Shape().Clone()
	if dt == tensor.Float32 {
		m.f32 = make([]float32, shape.TotalSize())
		m.buf = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(m.f32))
	} else {
		m.f64 = make([]float64, shape.TotalSize())
		m.buf = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(m.f64))
	}
}

// bind makes the buffer the mask node's value (G.Let), unless it already
// is or the mask has no node.
func (m *mask) bind() error {
	if m.node == nil {
		return nil
	}
	if v, ok := m.node.Value().(*tensor.Dense); ok && v == m.buf {
		return nil
	}
	if err := G.Let(m.node, m.buf); err != nil {
		return fmt.Errorf("nn: dropout mask %s: %w", m.node.Name(), err)
	}
	return nil
}

// NewGraph returns an empty graph for tensors of dtype dt.
func NewGraph(dt tensor.Dtype, train bool) *Graph {
	return &Graph{
		G: G.NewGraph(), Dtype: dt, Train: train,
		params: map[*Param]*G.Node{}, inputs: map[string]*G.Node{},
	}
}

// InputTensor returns the tensor this graph keeps for feeding the input
// node n: on the first call for n a new one of the graph's dtype and n's
// shape (64-byte aligned, zero), the same one on every later call, so that
// feeding a batch allocates nothing. The caller overwrites every entry and
// sets it as n's value with G.Let; nothing else may hold on to it.
func (g *Graph) InputTensor(n *G.Node) *tensor.Dense {
	if d, ok := g.fed[n]; ok {
		return d
	}
	if g.fed == nil {
		g.fed = map[*G.Node]*tensor.Dense{}
	}
	size := n.Shape().TotalSize()
	var d *tensor.Dense
	if g.Dtype == tensor.Float64 {
		d = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(AlignedFloat64s(size)))
	} else {
		d = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(AlignedFloat32s(size)))
	}
	g.fed[n] = d
	return d
}

// Param returns the node bound to p in this graph, creating it on first use.
// The node's value is p.Value itself (shared, not copied).
func (g *Graph) Param(p *Param) *G.Node {
	if n, ok := g.params[p]; ok {
		return n
	}
	if p.Value.Dtype() != g.Dtype {
		panic(fmt.Sprintf("nn: param %q has dtype %v, graph has %v", p.Name, p.Value.Dtype(), g.Dtype))
	}
	var n *G.Node
	switch len(p.Shape) {
	case 1:
		n = G.NewVector(g.G, g.Dtype, G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Value))
	case 2:
		n = G.NewMatrix(g.G, g.Dtype, G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Value))
	default:
		n = G.NewTensor(g.G, g.Dtype, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Value))
	}
	g.params[p] = n
	g.order = append(g.order, p)
	return n
}

// Params returns the parameters used by this graph, in first-use order.
func (g *Graph) Params() []*Param { return g.order }

// ParamNodes returns the nodes of the given parameters (binding them if
// needed), in the same order.
func (g *Graph) ParamNodes(ps []*Param) G.Nodes {
	out := make(G.Nodes, len(ps))
	for i, p := range ps {
		out[i] = g.Param(p)
	}
	return out
}

// HasParam reports whether p is bound in this graph.
func (g *Graph) HasParam(p *Param) bool { _, ok := g.params[p]; return ok }

// Input creates (or returns, if the name exists) an input node of the given
// shape. Feed it with G.Let before each run.
func (g *Graph) Input(name string, shape ...int) *G.Node {
	if n, ok := g.inputs[name]; ok {
		return n
	}
	var n *G.Node
	switch len(shape) {
	case 0:
		n = G.NewScalar(g.G, g.Dtype, G.WithName(name))
	case 1:
		n = G.NewVector(g.G, g.Dtype, G.WithShape(shape...), G.WithName(name))
	case 2:
		n = G.NewMatrix(g.G, g.Dtype, G.WithShape(shape...), G.WithName(name))
	default:
		n = G.NewTensor(g.G, g.Dtype, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	g.inputs[name] = n
	return n
}

// Inputs returns the input nodes by name.
func (g *Graph) Inputs() map[string]*G.Node { return g.inputs }

// Constant returns a node holding the given values with the given shape, in
// the graph's dtype. It is a uniquely named value node, not a gorgonia
// constant: gorgonia hashes constants by their printed (truncated) value and
// merges nodes of equal hash, so two different large constants could
// silently become one node.
func (g *Graph) Constant(values []float64, shape ...int) *G.Node {
	v := g.newDense(values, shape)
	opts := []G.NodeConsOpt{G.WithShape(shape...), G.WithName(g.uniqueName("const")), G.WithValue(v)}
	switch len(shape) {
	case 0:
		panic("nn: Graph.Constant needs a shape; use Scalar for scalars")
	case 1:
		return G.NewVector(g.G, g.Dtype, opts...)
	case 2:
		return G.NewMatrix(g.G, g.Dtype, opts...)
	}
	return G.NewTensor(g.G, g.Dtype, len(shape), opts...)
}

// Scalar returns a scalar constant in the graph's dtype.
func (g *Graph) Scalar(v float64) *G.Node {
	if g.Dtype == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// newDense returns a tensor of the graph's dtype holding a copy of values,
// 64-byte aligned like parameters (NewAlignedDense).
func (g *Graph) newDense(values []float64, shape []int) *tensor.Dense {
	return NewAlignedDense(g.Dtype, values, shape...)
}

// uniqueName returns prefix followed by a counter unique in this graph.
func (g *Graph) uniqueName(prefix string) string {
	g.counter++
	return fmt.Sprintf("%s#%d", prefix, g.counter)
}

// Dropout applies inverted dropout with drop probability p through a mask
// input: y = x ⊙ M with M_ij ∈ {0, 1/(1−p)}, M sampled by SampleMasks before
// each training step. In an evaluation graph, or when p == 0, it returns x.
// (gorgonia's own Dropout has a wrong backward pass in v0.9.18.) The
// product is one op with reused output buffers (masks_op.go).
func (g *Graph) Dropout(x *G.Node, p float64) (*G.Node, error) {
	return g.DropoutRows(x, p, nil)
}

// DropoutRows is Dropout computing the product only on the rows i (over
// the leading axes) of x with keep[i] ≠ 0, keep a node of that many
// elements read when the op runs (like Linear.ForwardRows'); the other
// rows of y and of ∂L/∂x are 0 (what x = 0 or ∂L/∂y = 0 there gives). The
// mask takes its place in the random stream as Dropout's: SampleMasks
// draws it in full, SampleMasksPCG leaves it to the product, which draws
// the kept rows' entries (their draws of the stream, pcgJump) when it
// first reads them, so the kept rows are those of Dropout. The output
// buffer is the graph's (OpBuffer). keep nil is Dropout.
func (g *Graph) DropoutRows(x *G.Node, p float64, keep *G.Node) (*G.Node, error) {
	if !g.Train || p == 0 {
		return x, nil
	}
	if p < 0 || p >= 1 {
		return nil, fmt.Errorf("nn: dropout probability %v outside [0, 1)", p)
	}
	m := g.DropoutMask(p, x.Shape()...)
	if keep == nil {
		return maskProduct(nil, "", x, m, nil, nil)
	}
	mk := g.masks[len(g.masks)-1]
	s := x.Shape()
	mk.rows = &lazyRows{width: s[len(s)-1]}
	return maskProduct(g, "Dropout.y", x, m, keep, mk)
}

// DropoutMask returns a new mask input of the given shape that SampleMasks
// fills before each training step with entries 0 (probability p) and
// 1/(1−p), for fused ops that apply dropout inside (MultiHeadAttention).
// p must be in (0, 1) and the graph a training graph; Dropout checks both.
func (g *Graph) DropoutMask(p float64, shape ...int) *G.Node {
	m := g.Input(g.uniqueName("dropout_mask"), shape...)
	g.masks = append(g.masks, &mask{node: m, p: p})
	return m
}

// dropMask registers a dropout mask of size entries and drop probability
// p that no node carries: an op holding it reads its bytes (mask.drops)
// when it runs — a quarter of a float32 mask's memory. SampleMasks draws it in its turn, with the same random stream
// as a DropoutMask of that size (one rng.Uint64 per entry, in order), and
// the uniqueName counter advances as for DropoutMask, so the nodes built
// after it are named as they would be after a Dropout.
func (g *Graph) dropMask(p float64, size int) *mask {
	g.uniqueName("dropout_mask")
	m := &mask{p: p, size: size}
	g.masks = append(g.masks, m)
	return m
}

// SampleMasks draws fresh dropout masks for every Dropout of the graph:
// each entry of a mask with drop probability p is 0 with probability p and
// 1/(1−p) otherwise (inverted dropout). The masks are drawn into one buffer
// per mask that is reused at every call (no allocation after the first), one
// rng.Uint64 per entry, mask after mask (see fillDropoutMask), so the masks
// are a deterministic function of rng's state.
func (g *Graph) SampleMasks(rng *rand.Rand) error {
	for _, m := range g.masks {
		m.allocate(g.Dtype)
		m.fill(0, m.entries(), rng)
		if m.rows != nil {
			m.rows.pending = false
		}
	}
	return g.bindMasks(true)
}

// SampleMasksPCG draws the masks SampleMasks(rand.New(rand.NewPCG(seed1,
// seed2))) draws, bit for bit, in chunks of maskChunk entries on GOMAXPROCS
// goroutines (parallel.Do): the chunk that starts at the stream's j-th draw
// gets its own generator, a PCG at the state j steps on (pcgJump), so the
// chunks need not be drawn in order. The masks of DropoutRows and those
// of MultiHeadAttentionRows with a row selection only take their place in
// the stream: the rows their ops read are drawn then (mask.drawRows), the
// others never.
func (g *Graph) SampleMasksPCG(seed1, seed2 uint64) error {
	type chunk struct {
		m      *mask
		lo, hi int
		draw   uint64 // index of the chunk's first draw in the stream
	}
	var chunks []chunk
	var draw uint64
	for _, m := range g.masks {
		m.allocate(g.Dtype)
		n := m.entries()
		if r := m.rows; r != nil {
			r.pending, r.seed1, r.seed2, r.first = true, seed1, seed2, draw
			if len(r.drawn) != n/r.width {
				r.drawn = make([]bool, n/r.width)
			}
			clear(r.drawn)
			draw += uint64(n)
			continue
		}
		for lo := 0; lo < n; lo += maskChunk {
			hi := min(lo+maskChunk, n)
			chunks = append(chunks, chunk{m, lo, hi, draw})
			draw += uint64(hi - lo)
		}
	}
	parallel.Do(len(chunks), func(_, c int) {
		ch := chunks[c]
		hi, lo := pcgJump(seed1, seed2, ch.draw)
		ch.m.fillPCG(ch.lo, ch.hi, pcgStream{hi, lo})
	})
	return g.bindMasks(true)
}

// maskChunk is the number of mask entries SampleMasksPCG draws per chunk.
const maskChunk = 1 << 16

// entries returns the number of entries of the mask (allocated).
func (m *mask) entries() int {
	switch {
	case m.drops != nil:
		return len(m.drops)
	case m.f32 != nil:
		return len(m.f32)
	}
	return len(m.f64)
}

// fill draws entries [lo, hi) of the mask from rng, one rng.Uint64 per
// entry in order (fillDropoutBytes, fillDropoutMask).
func (m *mask) fill(lo, hi int, rng *rand.Rand) {
	switch {
	case m.drops != nil:
		fillDropoutBytes(m.drops[lo:hi], m.p, rng)
	case m.f32 != nil:
		fillDropoutMask(m.f32[lo:hi], m.p, rng)
	default:
		fillDropoutMask(m.f64[lo:hi], m.p, rng)
	}
}

// fillPCG is fill from the PCG stream s (fill(lo, hi, rand.New(
// rand.NewPCG(s.hi, s.lo))), bit for bit).
func (m *mask) fillPCG(lo, hi int, s pcgStream) {
	switch {
	case m.drops != nil:
		fillDropoutBytesPCG(m.drops[lo:hi], m.p, s)
	case m.f32 != nil:
		fillDropoutMaskPCG(m.f32[lo:hi], m.p, s)
	default:
		fillDropoutMaskPCG(m.f64[lo:hi], m.p, s)
	}
}

// bindMasks makes every mask buffer its node's value; a mask without node
// (bytes) gets the scale of its kept entries: 1/(1−p) after sampling
// (sampled true), 1 otherwise.
func (g *Graph) bindMasks(sampled bool) error {
	for _, m := range g.masks {
		if m.drops != nil {
			m.scale = 1
			if sampled {
				m.scale = 1 / (1 - m.p)
			}
		}
		if err := m.bind(); err != nil {
			return err
		}
	}
	return nil
}

// SetMasksToOne sets every dropout mask to 1 (no dropout) — used by gradient
// checks that need a deterministic training graph.
func (g *Graph) SetMasksToOne() error {
	for _, m := range g.masks {
		m.allocate(g.Dtype)
		if m.drops != nil {
			clear(m.drops)
		} else if m.f32 != nil {
			fillOnes(m.f32)
		} else {
			fillOnes(m.f64)
		}
		if m.rows != nil {
			m.rows.pending = false
		}
	}
	return g.bindMasks(false)
}

// NumMasks returns the number of dropout masks in the graph.
func (g *Graph) NumMasks() int { return len(g.masks) }
