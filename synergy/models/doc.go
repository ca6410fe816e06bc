// Package models holds the multimodal fusion architectures that synergo
// trains with and without the synergy regularizer (the paper, §5.2):
// EF-LSTM (the paper's "FLSTM"), TFN, LMF (the paper's "LFN") and MFN.
//
// Every model implements Model: it builds its forward pass into an nn.Graph
// for a fixed batch size, feeds a multimodal.Batch into the input nodes it
// created, and exposes, besides the prediction, the unimodal representations
// Z_t, Z_a, Z_v and the fused representation Z that the regularizer's
// C-network attaches to (DESIGN.md §3). Which node is Z_i and Z for each
// model, and every deviation from the original architectures, is stated in
// the model's doc comment and in README.md.
//
// The default hyper-parameters are MMSA's per-dataset defaults
// (thuiar/MMSA, config/config_regression.json) for "mosi" and "mosei";
// MMSA has no UR-FUNNY configuration, so "urfunny" uses the MOSI values.
package models
