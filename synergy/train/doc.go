// Package train runs one training run: it fits a fusion model from
// synergy/models on a datasets.Dataset, optionally with the synergy
// regularizer of the paper (§4, appendix D), evaluates the model it selected
// and reports the run as a RunResult. Grids of runs, the results file and
// the paper's tables are package synergy/grid.
//
// One run (New, then Trainer.Run) is one (model, data, regularizer, seed,
// batch size, learning rate):
//
//   - Float32 training on gorgonia graphs of fixed shape: one training graph
//     per batch size that occurs (the full size and the size of the last,
//     smaller batch), all binding the same parameter tensors, each with its
//     own regularizer Attachment (the C-network's moving covariances and
//     bandwidths are shared by design), and a forward-only evaluation graph
//     per evaluation batch size WITHOUT the C-network, so inference costs
//     the same with and without the regularizer.
//   - The task loss is least squares for regression (appendix D; the
//     default) or L1 (MMSA's choice, Options.Loss) and binary cross-entropy
//     with logits for Binary tasks. The model's
//     parameters descend L_task + β·L_reg with AdamW (η_task; the weight
//     decay of the model's training defaults, models.Hyper, unless
//     overridden), gradients clipped by value 5 as in appendix C (a global
//     norm clip is optional, and on by default where the model's defaults
//     set one); the C-network follows ∇L_reg with its own AdamW (η_MI)
//     (appendix D).
//   - An epoch is the model's epoch schedule (models.EpochSchedule) or, for
//     a model without one, a single main stage over every batch. MMIM's
//     schedule is the original's two-stage epoch: stage 0 minimizes −lld
//     over the epoch's batches (the first half on MOSEI) with its own AdamW
//     on the MMILB parameters; stage 1 descends the objective with two AdamW
//     groups (BERT at lr_bert, the rest but MMILB at η_task) and refreshes
//     the model's entropy memory after each step. The trainer only runs the
//     stages: their parameter groups, learning rates and per-step hooks are
//     the model's, and the model's training state (MMIM's memory) is saved
//     in the resume checkpoint, so a run resumed mid-epoch is bit-identical.
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
//     (one generator per (epoch, batch) and stage), so a resumed run
//     continues bit-for-bit.
//   - Per-epoch diagnostics: training task loss and regularizer terms
//     averaged over the epoch, validation MAE and loss, and three held-out,
//     regularizer-independent measures of what the terms ask for, each with
//     its n and p: Mardia kurtosis of the validation Z and Z_i in a fixed
//     4-dimensional projection, as a ratio to its Gaussian expectation and
//     refused below 10 samples per dimension (L_κ); unbiased MMD² between
//     fixed random views of each standardized Z_i and Z (L_d); the 5-fold
//     held-out R² of each Z_i from Z_{−i} by ridge regression (L2). See
//     EpochDiagnostics.
//   - A checkpoint of the best model and a resume checkpoint after every
//     epoch and on cancellation (Options.Dir); the best model is finally
//     evaluated on the validation and test splits and on the corrupted test
//     sets of Table 4 (T, T+V, T+A; datasets.CorruptionSets).
//   - Progress goes to Options.OnProgress as Events (a stage of an epoch
//     starts or ends, a step is done, an epoch is validated), which the
//     command line draws as progress bars and a notebook can print.
//     Cancelling the context given to Run stops the run after the current
//     step, with the resume checkpoint written: New and Run with the same
//     options continue where it stopped.
//
// Binary tasks (UR-FUNNY, Table 6) train any model with BCE and report
// accuracy and F1.
package train
