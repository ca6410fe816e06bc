package datasets

import (
	"math"
	"slices"
)

// TimeAverage returns the N×1×D sequence set of per-sample means over time,
// with every length set to 1. With overPadding = true sequence i is averaged
// over all T steps, padding included:
//
//	x̄_i = (1/T) Σ_{t<T} x_{i,t}
//
// which is what MMSA's data loader does for TFN, LMF and MFN
// (data_loader.py __normalize: audio and vision averaged over the padded
// axis, zeros included), so short sequences are shrunk towards zero. With
// overPadding = false the mean runs over the true length only:
//
//	x̄_i = (1/L_i) Σ_{t<L_i} x_{i,t}
//
// Sums are accumulated in float64.
func TimeAverage(s *Sequences, overPadding bool) *Sequences {
	out := zeroSequences(s.N, 1, s.D)
	acc := make([]float64, s.D)
	for i := 0; i < s.N; i++ {
		steps := s.T
		if !overPadding {
			steps = s.Lengths[i]
		}
		clear(acc)
		row := s.Row(i)
		for t := 0; t < steps; t++ {
			for d, v := range row[t*s.D : (t+1)*s.D] {
				acc[d] += float64(v)
			}
		}
		for d := range acc {
			out.Data[i*s.D+d] = float32(acc[d] / float64(steps))
		}
		out.Lengths[i] = 1
	}
	return out
}

// TimeAveraged returns a copy of d in which the listed modalities of every
// split are replaced by their TimeAverage (N×1×D); the other modalities and
// everything else are shared with d, not copied, except the token steps,
// which are dropped when audio or vision is averaged (their steps are
// gone). MMSA's preprocessing for TFN, LMF and MFN is
// d.TimeAveraged(true, Audio, Vision).
func (d *Dataset) TimeAveraged(overPadding bool, mods ...Modality) *Dataset {
	out := d.mapFeatures(func(m Modality, f *Sequences) *Sequences {
		if slices.Contains(mods, m) {
			return TimeAverage(f, overPadding)
		}
		return f
	})
	if slices.Contains(mods, Audio) || slices.Contains(mods, Vision) {
		for _, s := range out.Splits() {
			s.TokenSteps = nil
		}
	}
	return out
}

// FeatureStats holds per-feature means and standard deviations of one
// modality, computed over the valid (un-padded) steps of a split.
type FeatureStats struct {
	Mean, Std []float64
}

// TrainStats returns, per modality, the mean and population standard
// deviation of every feature over all valid steps t < L_i of the training
// split (nil for an absent modality).
func (d *Dataset) TrainStats() [NumModalities]*FeatureStats {
	var stats [NumModalities]*FeatureStats
	for m, f := range d.Train.Features {
		if f == nil {
			continue
		}
		mean := make([]float64, f.D)
		m2 := make([]float64, f.D)
		count := 0.0
		for i := 0; i < f.N; i++ {
			row := f.Row(i)
			for t := 0; t < f.Lengths[i]; t++ {
				count++
				for k, v := range row[t*f.D : (t+1)*f.D] {
					// Welford's update.
					delta := float64(v) - mean[k]
					mean[k] += delta / count
					m2[k] += delta * (float64(v) - mean[k])
				}
			}
		}
		std := make([]float64, f.D)
		for k := range std {
			if count > 0 {
				std[k] = math.Sqrt(m2[k] / count)
			}
		}
		stats[m] = &FeatureStats{Mean: mean, Std: std}
	}
	return stats
}

// Standardize returns a copy of d whose features are z-scored per feature
// with the statistics of the training split (see TrainStats):
//
//	x'_{i,t,k} = (x_{i,t,k} − μ_k) / σ_k    for t < L_i,
//
// applied to all three splits; padded steps stay zero. A feature with
// σ_k = 0 (constant on train) is only centred. Labels, ids, raw text and
// token ids are shared with d.
func (d *Dataset) Standardize() *Dataset {
	stats := d.TrainStats()
	return d.mapFeatures(func(m Modality, f *Sequences) *Sequences {
		z := cloneSequences(f)
		st := stats[m]
		for i := 0; i < z.N; i++ {
			row := z.Row(i)
			for t := 0; t < z.Lengths[i]; t++ {
				for k := range z.D {
					sd := st.Std[k]
					if sd == 0 {
						sd = 1
					}
					row[t*z.D+k] = float32((float64(row[t*z.D+k]) - st.Mean[k]) / sd)
				}
			}
		}
		return z
	})
}

// mapFeatures returns a copy of d in which every present feature set f of
// modality m, in every split, is replaced by convert(m, f); everything else
// (labels, ids, raw text, token ids, and f itself where convert returns it)
// is shared with d.
func (d *Dataset) mapFeatures(convert func(m Modality, f *Sequences) *Sequences) *Dataset {
	out := *d
	for _, s := range []**Split{&out.Train, &out.Valid, &out.Test} {
		c := **s // a shallow copy whose Features array can be reassigned
		for m, f := range c.Features {
			if f != nil {
				c.Features[m] = convert(Modality(m), f)
			}
		}
		*s = &c
	}
	return &out
}
