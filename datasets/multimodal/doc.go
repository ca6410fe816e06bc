// Package multimodal holds the few types a multimodal model and its data
// share: the three modalities (Modality: text, audio, vision, in that order
// everywhere), the task (Task: regression of a sentiment score or binary
// classification), padded feature sequences (Sequences) and a minibatch
// (Batch). It imports nothing of synergo, so that a model can read a batch
// without linking the file readers of package datasets, which cuts the
// batches and re-exports these types under the same names.
package multimodal
