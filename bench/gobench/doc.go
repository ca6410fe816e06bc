// Package gobench times synergo's training and inference on the public APIs
// (models.New, synergy.New, nn, datasets.Synthetic): one training step, one
// epoch and one forward-only evaluation batch of each model (eflstm, tfn,
// lmf, mfn), with and without the synergy regularizer (MMD or KL), on MOSI-
// and MOSEI-shaped synthetic data.
//
// A training step here is the trainer's step (synergy/train): feed the
// batch, draw the dropout masks, feed the regularizer, run the graph
// (forward and backward of L_task + β·L_reg), update the C-network and
// fold the batch into its moving averages (Attachment.Step), clip the
// model's gradients by value 5, AdamW.
// The benchmarks report wall time per op and the process CPU time per op
// ("cpu-ms/op", user + system of all threads), which a shared machine
// disturbs less; bench/README.md holds the measured tables.
package gobench
