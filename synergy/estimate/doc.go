// Package estimate holds the plain-gonum estimators behind the synergy
// regularizer of "Neural Dependency Coding inspired Multimodal Fusion"
// (Shankar, arXiv 2110.00385): Mardia's multivariate kurtosis (§2.3), the
// squared maximum mean discrepancy with a sum of Gaussian kernels and the
// median-heuristic bandwidths (§2.2), two lower bounds on a KL divergence
// (MINE's Donsker–Varadhan form and the form §2.2 writes), and the robust
// kurtosis machinery of §4.1 and appendix D
// (difference vectors clipped to a maximum norm, an exponential moving average
// of the batch covariance, diagonal loading before the inversion).
//
// Nothing here builds an autodiff graph. The synergy regularizer computes
// its terms as fused ops of package synergy/terms; the estimators here are
// their plain float64 references (its tests check each term against them)
// and its diagnostics. EMACovariance is also the state the regularizer
// carries between batches: its kurtosis op computes the moving-average
// recursion inside the graph and hands each result to AdvanceTo.
//
// Conventions: a matrix holds one sample per row; all computation is float64.
// Anything a caller can get wrong with data (empty input, mismatched columns,
// NaN or ±Inf, a singular covariance, a non-positive bandwidth) is returned as
// an error whose message starts with "estimate:" and names the argument.
package estimate
