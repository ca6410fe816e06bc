// Package nn holds the neural-network building blocks of synergo on top of
// gorgonia (gorgonia.org/gorgonia v0.9.18): parameters that live outside any
// graph, a graph builder that binds them, layers (Linear, MLP, LSTM, affine
// coupling, fixed random projection, attention), dropout through a mask input,
// a log-sum-exp of our own, AdamW with PyTorch's semantics, gradient clipping
// and checkpoints. Linear, LSTM, dropout's mask product and, on request
// (MLP.ForwardFused, InvertibleNet.ForwardFused), MLPs and coupling flows
// run as custom ops with hand-written backward passes, built with the kit
// of package synergy/nn/opkit.
//
// Parameters are plain tensors owned by a ParamSet. Every graph (one per batch
// size for training, one forward-only graph for evaluation) creates its own
// nodes bound to the same tensors, so an optimizer step is seen by all graphs.
// Never use gorgonia's LogSumExp or Dropout: both are wrong in v0.9.18; use
// LogSumExp/LogMeanExp and Graph.Dropout here. Never use G.Concat or
// G.Slice on wide inputs either: v0.9.18 hashes a slice's bounds modulo 256
// (sliceOp.WriteHash writes byte(start), byte(end)), so two slices of one
// node whose bounds agree modulo 256 are merged into one node — G.Concat's
// gradient is such a slice per input, and blocks 256 columns apart receive
// each other's gradient (TestConcatWideBlocksGetTheirOwnGradient). Use
// Concat, TimeStep and the fused MultiHeadAttention here.
package nn
