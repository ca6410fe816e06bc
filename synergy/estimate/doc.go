// Package estimate holds the plain-gonum estimators behind the synergy
// regularizer of "Neural Dependency Coding inspired Multimodal Fusion"
// (Shankar, arXiv 2110.00385): Mardia's multivariate kurtosis (§2.3), the
// squared maximum mean discrepancy with a sum of Gaussian kernels and the
// median-heuristic bandwidths (§2.2), the Donsker–Varadhan lower bound on a KL
// divergence (§2.2), and the robust kurtosis machinery of §4.1 and appendix D
// (difference vectors clipped to a maximum norm, an exponential moving average
// of the batch covariance, diagonal loading before the inversion).
//
// Nothing here builds an autodiff graph. The regularizer uses these functions
// for diagnostics and, through EMACovariance, for the constant precision
// matrix it feeds to its kurtosis term; RobustKurtosis computes exactly the
// value that term computes, so the two can be checked against each other.
//
// Conventions: a matrix holds one sample per row; all computation is float64.
// Anything a caller can get wrong with data (empty input, mismatched columns,
// NaN or ±Inf, a singular covariance, a non-positive bandwidth) is returned as
// an error whose message starts with "estimate:" and names the argument.
package estimate
