package synergy

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// step updates the regularizer after a run of the graph: the C-network
// takes its AdamW step (Attachment.stepNetworks, with GradClipValueMI;
// the Donsker–Varadhan critics ascend), then the batch's representations
// are folded into the moving covariances of the kurtosis targets and the
// batch's projected features into the median-heuristic bandwidth state.
func (r *Regularizer) step(a *Attachment) error {
	stepped, err := a.stepNetworks(r.params, r.opt, r.cfg.GradClipValueMI, r.isCrit, r.frozen)
	if err != nil {
		return err
	}
	if stepped {
		r.steps++
	}
	return r.updateAverages(a)
}

// updateAverages carries the moving covariances of the kurtosis targets
// to the values S_t their ops computed for this batch (the recursion of
// estimate.EMACovariance, computed once, inside the graph) and folds the
// median pairwise distance of the batch's projected features (the MMD
// ops' distances, terms.MMD.MedianDistance) into the median-heuristic
// bandwidth state. It allocates nothing after its first call.
func (r *Regularizer) updateAverages(a *Attachment) error {
	for ti, k := range a.kurtosis {
		p := r.cov[ti].Dim()
		a.covScratch = opkit.Grow(a.covScratch, p*p)
		if err := k.Covariance(a.covScratch); err != nil {
			return fmt.Errorf("synergy: kurtosis target %d: %w", ti, err)
		}
		if err := r.cov[ti].AdvanceTo(a.covScratch); err != nil {
			return fmt.Errorf("synergy: kurtosis target %d: %w", ti, err)
		}
	}
	for i, m := range a.mmd {
		n := 2 * a.batch
		need := n * (n - 1) / 2
		if cap(a.medianWork) < need {
			a.medianWork = make([]float64, need)
		}
		med, err := m.MedianDistance(a.medianWork[:need])
		if err != nil {
			return fmt.Errorf("synergy: bandwidth of modality %d: %w", i, err)
		}
		if med <= 0 || math.IsNaN(med) || math.IsInf(med, 0) {
			continue // degenerate batch: keep the previous bandwidth
		}
		if r.bandwidth[i] == 0 {
			r.bandwidth[i] = med
		} else {
			r.bandwidth[i] = r.cfg.EMADecay*r.bandwidth[i] + (1-r.cfg.EMADecay)*med
		}
	}
	return nil
}

// Precision returns the precision matrix (S + cI)⁻¹ of the moving
// covariance S carried for kurtosis target ti (targets: the fused
// representation first when KurtosisFused, then each unimodal one when
// KurtosisUnimodal): the precision L_κ used on the last batch folded in.
// It returns an error before the first step.
func (r *Regularizer) Precision(ti int) (*mat.Dense, error) {
	if ti < 0 || ti >= len(r.cov) {
		return nil, fmt.Errorf("synergy: no kurtosis target %d", ti)
	}
	return r.cov[ti].Precision()
}

// Bandwidth returns the median-heuristic distance scale of modality i
// (0 before the first step).
func (r *Regularizer) Bandwidth(i int) float64 {
	if i < 0 || i >= len(r.bandwidth) {
		return 0
	}
	return r.bandwidth[i]
}

// state is the serialized non-parameter state of a Regularizer.
type state struct {
	Steps      int         `json:"steps"`
	Bandwidth  []float64   `json:"bandwidth"`
	Covariance [][]float64 `json:"covariance"`
	CovUpdates []int       `json:"cov_updates"`
}

// MarshalState serializes the moving covariances, bandwidths and step count
// (parameters and optimizer state are checkpointed through nn).
func (r *Regularizer) MarshalState() ([]byte, error) {
	st := state{Steps: r.steps, Bandwidth: r.bandwidth}
	for _, c := range r.cov {
		s, updates := c.State()
		st.Covariance = append(st.Covariance, s)
		st.CovUpdates = append(st.CovUpdates, updates)
	}
	return json.Marshal(st)
}

// UnmarshalState restores what MarshalState saved.
func (r *Regularizer) UnmarshalState(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("synergy: regularizer state: %w", err)
	}
	if len(st.Bandwidth) != len(r.bandwidth) || len(st.Covariance) != len(r.cov) || len(st.CovUpdates) != len(r.cov) {
		return fmt.Errorf("synergy: regularizer state does not match this configuration")
	}
	for i, c := range r.cov {
		if p := c.Dim(); len(st.Covariance[i]) != p*p {
			return fmt.Errorf("synergy: regularizer state: covariance %d has %d values, want %d", i, len(st.Covariance[i]), p*p)
		}
	}
	r.steps = st.Steps
	copy(r.bandwidth, st.Bandwidth)
	for i, c := range r.cov {
		if err := c.SetState(st.Covariance[i], st.CovUpdates[i]); err != nil {
			return err
		}
	}
	return nil
}
