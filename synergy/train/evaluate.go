package train

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/datasets"
)

// representations are the validation representations of the evaluation
// graph: Z (n×d) and Z_t, Z_a, Z_v (n×d_i).
type representations struct {
	fused    *mat.Dense
	unimodal []*mat.Dense
}

// evalGraphFor returns the forward-only graph for batches of size n,
// building it on first use.
func (t *Trainer) evalGraphFor(n int) (*evalGraph, error) {
	if eg, ok := t.evals[n]; ok {
		return eg, nil
	}
	eg, err := buildEvalGraph(t.model, n, t.pools)
	if err != nil {
		return nil, err
	}
	t.evals[n] = eg
	return eg, nil
}

// predict runs the evaluation graphs over split in its own order and
// returns the predictions (for Binary tasks: logits) and, if keep, the
// representations.
func (t *Trainer) predict(split *datasets.Split, keep bool) ([]float64, *representations, error) {
	batches, err := split.BatchIndices(t.opts.EvalBatchSize, -1)
	if err != nil {
		return nil, nil, err
	}
	pred := make([]float64, 0, split.Len())
	var fused []float64
	uni := make([][]float64, datasets.NumModalities)
	var fusedDim int
	uniDim := make([]int, datasets.NumModalities)
	for _, idx := range batches {
		t.batch = split.GatherInto(t.batch, idx) // one batch's copy at a time
		b := t.batch
		eg, err := t.evalGraphFor(b.Size())
		if err != nil {
			return nil, nil, err
		}
		if err := t.model.Feed(eg.g, b); err != nil {
			return nil, nil, fmt.Errorf("train: feeding split %s: %w", split.Name, err)
		}
		if err := eg.vm.RunAll(); err != nil {
			eg.vm.Reset()
			return nil, nil, fmt.Errorf("train: evaluating split %s: %w", split.Name, err)
		}
		pred = append(pred, vectorValues(eg.predRead)...)
		if keep {
			fused = append(fused, vectorValues(eg.fusedRead)...)
			fusedDim = eg.out.Fused.Shape()[1]
			for i, z := range eg.out.Unimodal {
				uni[i] = append(uni[i], vectorValues(eg.uniRead[i])...)
				uniDim[i] = z.Shape()[1]
			}
		}
		eg.vm.Reset()
	}
	if !keep {
		return pred, nil, nil
	}
	n := len(pred)
	reps := &representations{fused: mat.NewDense(n, fusedDim, fused)}
	for i := range uni {
		reps.unimodal = append(reps.unimodal, mat.NewDense(n, uniDim[i], uni[i]))
	}
	return pred, reps, nil
}

// Representations runs the model as it is now (before Run: initialized;
// after Run: the epoch selected on validation) over split with the
// evaluation graphs — dropout off, batch normalization on its running
// estimates, no C-network — and returns the fused representation Z (n×d)
// and the unimodal ones Z_t, Z_a, Z_v (n×d_i), rows in split order: what
// the regularizer sees, on data it did not train on.
func (t *Trainer) Representations(split *datasets.Split) (fused *mat.Dense, unimodal []*mat.Dense, err error) {
	if split == nil || split.Len() == 0 {
		return nil, nil, fmt.Errorf("train: Representations: empty split")
	}
	_, reps, err := t.predict(split, true)
	if err != nil {
		return nil, nil, err
	}
	return reps.fused, reps.unimodal, nil
}

// labelsOf returns the split's labels as float64.
func labelsOf(s *datasets.Split) []float64 {
	out := make([]float64, s.Len())
	for i, v := range s.Labels {
		out[i] = float64(v)
	}
	return out
}

// lossValue is TaskLoss computed in float64 on whole-split predictions.
func lossValue(loss Loss, pred, truth []float64) float64 {
	var s float64
	for i, p := range pred {
		y := truth[i]
		switch loss {
		case LossL1:
			s += math.Abs(p - y)
		case LossMSE:
			s += (p - y) * (p - y)
		case LossBCE:
			s += math.Max(p, 0) - p*y + math.Log1p(math.Exp(-math.Abs(p)))
		}
	}
	return s / float64(len(pred))
}

// meanAbsError returns (1/n) Σ |p_i − y_i|.
func meanAbsError(pred, truth []float64) float64 {
	var s float64
	for i, p := range pred {
		s += math.Abs(p - truth[i])
	}
	return s / float64(len(pred))
}

// sigmoid maps logits to probabilities.
func sigmoid(logits []float64) []float64 {
	out := make([]float64, len(logits))
	for i, s := range logits {
		out[i] = 1 / (1 + math.Exp(-s))
	}
	return out
}

// binaryAccuracy is the share of samples with (logit > 0) == (label > 0.5).
func binaryAccuracy(logits, truth []float64) float64 {
	var c int
	for i, s := range logits {
		if (s > 0) == (truth[i] > 0.5) {
			c++
		}
	}
	return float64(c) / float64(len(logits))
}

// allFinite reports whether every value is a finite number.
func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
