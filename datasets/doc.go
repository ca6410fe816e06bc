// Package datasets holds everything between a file on disk and a batch in the
// trainer: the Dataset/Split/Batch types, loaders for the public releases of
// CMU-MOSI, CMU-MOSEI and UR-FUNNY (MMSA, MulT and MAG-BERT pickles,
// CMU-MultimodalSDK computational sequences, UR-FUNNY pickles), the synthetic
// generator used by default, modality corruption (Table 4 of the paper) and
// deterministic batching.
package datasets
