// Package opkit is the kit synergo's hand-written gorgonia ops are built
// from: the fused layers of synergy/nn, the regularizer's terms
// (synergy/terms), MFN's recurrence and the models' and BERT's small ops.
//
// # Why custom ops
//
// gorgonia v0.9.18 builds a layer from many small nodes, each allocating
// its result and materializing transposes in its backward pass. A custom op
// replaces such a chain by one forward op with a hand-written backward op:
// it computes in place, owns its buffers and allocates nothing once warm.
//
// # The pattern
//
// A fused op is a pair that shares one state:
//
//	out  = forwardOp(inputs…)                  keeps what backward needs in the state
//	grad = backwardOp(∂L/∂out, out or inputs…) emitted by forwardOp.SymDiff
//
// The backward op takes the output (or the inputs it reads) as inputs only
// so that the tape machine orders it after the forward pass and keeps those
// values alive; the intermediates come from the shared state. One forward
// run must be followed by its backward run before the next forward run —
// the tape machine does that. Backward adds such a backward op from a
// function of ∂L/∂out (most fused ops need no backward op type of their
// own); ops whose backward pass reads more inputs (the LSTM, MFN's
// recurrence) define one.
//
// When a backward pass yields the gradients of several inputs at once (an
// LSTM over a whole sequence: dx, dWx, dWh, db), the backward op writes them
// into one packed vector, and Pick returns each gradient as a shaped view of
// it. Pick is differentiable: the gradient of a pick is a scatter of the
// incoming gradient into a zero vector of the packed length, and gorgonia
// sums the scatters of the picks in use. An op with several outputs packs
// them the same way and its callers pick them (the LSTM's Hidden, Cells and
// Last); the gradient of the packed output is then the sum of scatters.
//
// # Identity and hashing
//
// gorgonia merges two nodes whose ops hash equal and whose inputs are the
// same nodes (common subexpression elimination). That is right for a pure
// function and wrong for an op with state or buffers: two LSTM layers on
// one input would collapse into one. Base gives every op one hash function,
// from WriteHash: a stateful op (Owned, Instance) hashes its name and an id
// unique in the process (NextID, the one op-id counter), so gorgonia never
// merges two instances; a pure op (Pure) hashes its name alone, which must
// then spell out every parameter of the function (say "MAGAlpha(β=0.5)"),
// so equal applications merge as gorgonia's own ops do.
//
// An Owned op returns a buffer it owns (ReturnsPtr true): gorgonia may
// write into it later in the same run, which is harmless because the op
// rewrites it in full on every run. Instance and Pure ops return fresh
// values.
//
// # Values
//
// Ops read their inputs with Data (the typed backing slice after checking
// dtype and shape), Float64s (a float64 copy whatever the dtype, for ops that
// compute in float64 and round once on output), Float64 (a scalar) and
// Contiguous; they write float64 results into a Buffer of the graph's dtype.
package opkit
