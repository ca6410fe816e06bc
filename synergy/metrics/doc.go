// Package metrics computes the evaluation numbers of the paper's tables
// exactly as thuiar/MMSA does (src/MMSA/utils/metricsTop.py,
// MetricsTop.__eval_mosei_regression, used for CMU-MOSI and CMU-MOSEI):
// MAE, Pearson correlation, 7- and 5-class accuracy after clipping and
// rounding half to even, and binary accuracy and weighted F1 in both the
// "Has0" (negative vs non-negative, all samples) and the "Non0" (negative vs
// positive, zero labels dropped) conventions. Papers that write just "Acc2"
// usually mean Non0 (the MMSA maintainers, MMSA#45 and #92); report both.
// EvalBinary scores the 0/1 humor labels of UR-FUNNY (the paper's Table 6).
//
// MeanStd and PairedDiffCI summarize a metric over seeds for the tables.
//
// All fractions are in [0, 1] (MMSA's result tables multiply by 100) and
// unrounded (MMSA rounds each value to 4 decimals). Inputs that a caller can
// get wrong (mismatched lengths, empty input, NaN or ±Inf) give errors that
// start with "metrics:" and name the offending index.
package metrics
