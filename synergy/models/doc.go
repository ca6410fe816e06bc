// Package models holds the multimodal fusion architectures that synergo
// trains with and without the synergy regularizer (the paper, §5.2):
// EF-LSTM (the paper's "FLSTM"), TFN, LMF (the paper's "LFN") and MFN, and
// the BERT-based MAG-BERT, MISA and MMIM.
//
// Every model implements Model: it builds its forward pass into an nn.Graph
// for a fixed batch size, feeds a multimodal.Batch into the input nodes it
// created, and exposes, besides the prediction, the unimodal representations
// Z_t, Z_a, Z_v and the fused representation Z that the regularizer's
// C-network (package synergy) attaches to, in the training graph only.
// Which node is Z_i and Z for each model, and every deviation from the
// original architectures, is stated in the model's doc comment and in
// the package's README.md. Hyper gives the trainer the model's training defaults; a model
// whose epoch is more than one pass of task-loss steps (MMIM's two stages)
// describes it as an EpochSchedule.
//
// By default every model is its original (architecture and
// initialization); the extensions synergo used to build by default (LMF's
// fused layer, EF-LSTM's embeddings, TFN's text dropout, PyTorch's default
// initializations of the BERT-based models) are settings of the model's
// configuration, which Options and NewWithOptions set by key. The default
// hyper-parameters are MMSA's per-dataset defaults (thuiar/MMSA,
// config/config_regression.json) for "mosi" and "mosei"; MMSA has no
// UR-FUNNY configuration, so "urfunny" uses the MOSI values. The BERT-based
// models take the defaults of their original code.
package models
