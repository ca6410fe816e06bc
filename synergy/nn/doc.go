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
// Never use gorgonia's LogSumExp or Dropout: both are wrong in v0.9.18 (see
// the project notes); use LogSumExp/LogMeanExp and Graph.Dropout here.
package nn
