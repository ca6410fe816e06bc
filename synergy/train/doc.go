// Package train is synergo's trainer (DESIGN.md §2): it fits a fusion model
// from synergy/models on a datasets.Dataset, optionally with the synergy
// regularizer of the paper (§4, appendix D), and writes what it learned.
//
// One run (Trainer.Run) is one (model, data, regularizer, seed, batch size,
// learning rate):
//
//   - Float32 training on gorgonia graphs of fixed shape: one training graph
//     per batch size that occurs (the full size and the size of the last,
//     smaller batch), all binding the same parameter tensors, each with its
//     own regularizer Attachment (the C-network's moving covariances and
//     bandwidths are shared by design), and a forward-only evaluation graph
//     per evaluation batch size WITHOUT the C-network, so inference costs
//     the same with and without the regularizer.
//   - The task loss is L1 (MMSA's choice, the default) or MSE for regression
//     and binary cross-entropy with logits for Binary tasks. The model's
//     parameters descend L_task + β·L_reg with AdamW (η_task, weight decay
//     from the model's MMSA defaults unless overridden), gradients clipped by
//     value 5 as in appendix C (a global norm clip is optional); the
//     C-network follows ∇L_reg with its own AdamW (η_MI) (appendix D).
//   - MMIM (any TwoStageModel) gets the original's two-stage epoch
//     (anchors.md §4.7): stage 0 minimizes −lld over the epoch's batches
//     (the first half for MOSEI) with its own AdamW (lr_mmilb) on the MMILB
//     parameters; stage 1 descends the objective with two AdamW groups
//     (BERT at lr_bert, the rest except MMILB at η_task), a global-norm
//     clip of 1 unless ClipNorm is set, and refreshes the entropy memory
//     after each step from the projections the model copied during the
//     step's forward pass. As in the original, the memory is emptied
//     before every epoch's stage 1 (so the entropy term counts from the
//     third batch of an epoch on); it is saved in the resume checkpoint, so
//     an MMIM run resumed mid-epoch is bit-identical. Simplifications:
//     stage 0 reuses stage 1's batch order; AdamW's decoupled weight decay
//     replaces Adam's L2 penalty.
//   - A model's frozen parameters (models.FrozenParamsModel: the frozen
//     part of a BERT encoder, Options.FreezeBert or the model's default,
//     MISA's original freezing on MOSEI and UR-FUNNY) are bound in the
//     graphs but get no gradient and no optimizer update.
//   - Model selection by the best validation MAE (appendix C, following
//     Zadeh et al. 2017), an improvement having to exceed 1e-6 as in MMSA;
//     for Binary tasks by the best validation accuracy. Never by test.
//     Early stopping after Patience (8) epochs without improvement, and a
//     cap of MaxEpochs.
//   - Every random draw derives from the run's seed: model and regularizer
//     initialization, batch order (one generator per epoch) and dropout masks
//     (one generator per (epoch, batch)), so a resumed run continues
//     bit-for-bit.
//   - Per-epoch diagnostics: training task loss and regularizer terms
//     averaged over the epoch, validation MAE and loss, Mardia kurtosis of
//     the validation representations Z and Z_i, and MMD² between fixed
//     diagnostic random projections of each Z_i and Z.
//   - A checkpoint of the best model and a resume checkpoint after every
//     epoch and on cancellation; the best model is finally evaluated on the
//     validation and test splits and on the corrupted test sets of Table 4
//     (T, T+V, T+A; datasets.CorruptionSets).
//
// Binary tasks (UR-FUNNY, Table 6) train any model with BCE and report
// accuracy and F1; their tables also come in Table 6's layout, one column
// per regularizer (ByRegularizer).
//
// Grid runs the hyper-parameter grid of appendix C (batch {32, 64} ×
// learning rate {1e-2, 5e-3, 1e-3, 5e-4, 1e-4}) per model × regularizer ×
// seed, picks the setting with the best validation score and appends one
// Record per (model, data, regularizer, terms, seed) to results.jsonl;
// finished runs are skipped on restart. Table turns results.jsonl into the
// paper's table layout (mean ± std over seeds, paired differences to the
// unregularized run with a 95% Student-t interval).
package train
