// Package grid runs grids of training runs and turns their results into the
// paper's tables. A grid is every model × regularizer × seed over a
// batch-size × learning-rate grid (appendix C: batch {32, 64} × learning
// rate {1e-2, 5e-3, 1e-3, 5e-4, 1e-4}, seeds 1111–1115); per cell (model,
// data, regularizer, terms, seed and every other option but batch size and
// learning rate) the setting with the best validation score is kept as one
// Record of results.jsonl.
//
// Runs, cells and records are named by every option that can change a
// result (train.Options.Setting), so a grid rerun into the same folder
// with any option changed trains new runs beside the old ones instead of
// returning theirs; run result files are sealed with a checksum; Grid and
// Collect lock the folder (FolderLockFile), shards lock each run.
//
// One engine serves both ways of running a grid. Plan lists the runs, each
// a PlannedRun with every option it needs and an ID hashed from them;
// RunShard trains the runs of one shard of a plan folder (one array task of
// a cluster job; see cmd/synergo's "grid plan|run|collect|slurm"), writing
// one result file per run; Collect selects per cell and writes
// results.jsonl. Grid does the three in one process (the command line's
// "synergo train" and "synergo grid", and the notebooks through
// synergy/paper), appending each cell's record as it completes. Runs
// resume from their checkpoints after an interruption, and finished runs
// are never trained again.
//
// Tables groups the records by data source and training setting into
// ResultTables in the paper's layout (a setting that differs gets its own
// table, headed by the options that differ): mean ± std over seeds and, for regularized rows, the
// paired difference to the unregularized run of the same seed with its 95%
// Student-t interval (synergy/metrics); WriteTables prints them as
// Markdown, CSV or JSON, binary results also in Table 6's layout
// (ByRegularizer).
package grid
