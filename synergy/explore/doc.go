// Package explore trains a small three-modality fusion model with each
// term of the synergy regularizer alone and with all three (Shankar,
// "Multimodal fusion via cortical network inspired losses", §4.1), and
// measures on held-out data what each term changed — the tour notebook's
// live section. Train runs the five settings
//
//	none         no regularizer
//	mmd[l2]      L2 alone: Q_i reconstructs Z_i from the other modalities
//	mmd[d]       L_d alone: MMD² between g_i(R_i Z_i) and g_i(R̃_i Z)
//	mmd[kappa]   L_κ alone: Mardia kurtosis of Z and the Z_i
//	mmd          all three
//
// (labels as train.SettingLabel writes them, with the base configuration's
// divergence and its variant in parentheses, e.g. "mmd[l2] (stable)") from
// one seed, so they start from the same model and
// see the same batches and dropout masks, printing one progress line per
// epoch. While it trains, SIGINT (a notebook kernel interrupt) stops it at
// the next step with the current run's checkpoint saved; calling Train
// again resumes. The Study it returns holds each run's per-epoch
// diagnostics (train.RunResult) and Snapshots of the held-out test split
// before and after training: the representations Z and Z_i, the samples
// g_i(R_i Z_i) and g_i(R̃_i Z) that L_d compares, their MMD², Mardia's
// kurtosis (only where n ≥ 10p, see Kurtosis), the terms on those rows and
// how well each Z_i can be predicted linearly from the others. Its figure methods draw them in
// viz's style, every caption naming the data, the regularizer variant and
// the seed.
package explore
