// Package paper holds the numbers the paper reports (Shankar, "Multimodal
// fusion via cortical network inspired losses", Tables 2–6: §5.4, §5.5,
// appendices A and B) as data, the mapping of the paper's model and
// training-setting names to synergo's (models.New names and
// grid.RegularizerFor regularizers), and the helpers the table notebooks
// call to put the paper's numbers beside ours: SideBySide builds a
// viz.Table whose every row says whether it is the paper's or ours (and, for
// ours, which data, how many seeds and which protocol produced it);
// Curves and Bars turn results.jsonl records into viz.Series and
// viz.BarSeries for the diagnostics plots (Mardia kurtosis of Z and Z_i in
// a fixed low-dimensional projection as a ratio to its Gaussian value, MMD²
// between fixed views of unimodal and fused features, the held-out R² of
// each Z_i from the others, validation MAE, each over epochs).
//
// The paper's numbers are transcribed exactly as printed: accuracies in %
// with one decimal, MAE and Pearson correlation with two. The paper says
// "Acc_2" without saying which binary accuracy; following Rahman et al.
// (2020), whom §5.3 cites, we compare it with the accuracy over non-zero
// labels (train Scores key "Acc2Non0").
//
// Nothing here trains: Protocol describes how much a notebook trains
// (SYNERGO_SCALE=quick or full) and hands grid.Grid its options.
package paper
