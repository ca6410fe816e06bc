// Package datasets holds everything between a file on disk and a batch in the
// trainer: Open, which turns a data spec (synth:PRESET[:SCALE[:SEED[:KNOBS]]] or a
// path) into a Dataset; the Dataset and Split types (the Batch, Sequences,
// Modality and Task types they share with the models live in the leaf
// package datasets/multimodal and are aliased here); loaders for the public
// releases of CMU-MOSI, CMU-MOSEI and UR-FUNNY (MMSA, MulT and MAG-BERT
// pickles, CMU-MultimodalSDK computational sequences, UR-FUNNY pickles); the
// synthetic generator used by default; modality corruption (Table 4 of the
// paper) and deterministic batching.
package datasets
