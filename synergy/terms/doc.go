// Package terms holds the synergy regularizer's terms as fused gorgonia
// ops (§4.1 and appendix D of the paper), each one forward op with a
// hand-written backward op built on synergy/nn/opkit:
//
//   - PooledMMD2: the squared maximum mean discrepancy with a sum of
//     Gaussian kernels between the two halves of a pooled sample, as means
//     or as §2.2's sums (S_MMD's L_d).
//   - PooledPaperKLBound and PooledDonskerVaradhan: §2.2's lower bound
//     E_P[T] − E_Q[e^T] and MINE's Donsker–Varadhan bound on KL from a
//     critic's values on a pooled sample (S_KL's L_d).
//   - MardiaKurtosis: Mardia's multivariate kurtosis against a moving
//     covariance that the current batch is folded into inside the op (L_κ);
//     the op hands the updated covariance to its caller (Kurtosis), which
//     carries it to the next batch.
//   - Standardize: batch standardization of a representation, the
//     regularizer's optional input transform.
//
// They compute in float64 whatever the graph's dtype and round once on
// output. Each is tested for equality with the chain of ordinary graph
// nodes it replaces and by a finite-difference gradient check. Package
// synergy assembles them into the regularizer; the options they take are
// the few fields of synergy.Config they need.
package terms
