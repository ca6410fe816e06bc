package train

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
)

// TestRegularizerSnapshot: a snapshot after 0 steps sees the empty moving
// covariance (α = 0), one after 2 steps the state training carried there
// (α = the decay, S_{t−1} = the state after the second step of a trainer
// stepped by hand); it is the variant asked for, refuses a used trainer and
// more steps than the first epoch has.
func TestRegularizerSnapshot(t *testing.T) {
	ds := testmodel.MOSI(t, 0.05)
	newTrainer := func(cfg *synergy.Config) *Trainer {
		tr, err := New(ds, Options{
			NewModel: func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
				return testmodel.NewPool(DimsOf(ds), seed), nil
			},
			Regularizer: &synergy.Choice{Synergy: cfg}, Seed: 7, BatchSize: 16, LearningRate: 1e-3, MaxEpochs: 1,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	paper := synergy.PaperConfig(synergy.DivergenceKL)
	paper.QHidden, paper.CouplingHidden, paper.CriticHidden, paper.ProjectionDim = 8, 8, 8, 4
	s0, err := newTrainer(&paper).RegularizerSnapshot(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s0.Alpha != 0 || mat.Norm(s0.Kurtosis[0].Prev, 1) != 0 || s0.Config.Variant != synergy.VariantPaper || len(s0.CriticUnimodal) != 3 {
		t.Fatalf("snapshot after 0 steps: α %v, |S_prev| %v, variant %v, %d critics", s0.Alpha, mat.Norm(s0.Kurtosis[0].Prev, 1), s0.Config.Variant, len(s0.CriticUnimodal))
	}
	tr := newTrainer(&paper)
	s2, err := tr.RegularizerSnapshot(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	// The same two steps by hand.
	ref := newTrainer(&paper)
	batches, err := ref.epochBatches()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := ref.step(ref.stages[0], ref.ds.Train.Gather(batches[i]), 0, i); err != nil {
			t.Fatal(err)
		}
	}
	state, err := ref.reg.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if s2.Alpha != float64(float32(paper.EMADecay)) {
		t.Fatalf("α after 2 steps %v, want %v (fed as float32)", s2.Alpha, float32(paper.EMADecay))
	}
	// The fed S_{t−1} is the float32 rounding of the state two steps carried.
	var carried struct {
		Covariance [][]float64 `json:"covariance"`
		CovUpdates []int       `json:"cov_updates"`
	}
	if err := json.Unmarshal(state, &carried); err != nil {
		t.Fatal(err)
	}
	for ti, k := range s2.Kurtosis {
		p, _ := k.Prev.Dims()
		if carried.CovUpdates[ti] != 2 {
			t.Fatalf("target %d: %d updates after 2 steps", ti, carried.CovUpdates[ti])
		}
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				if got, want := k.Prev.At(i, j), float64(float32(carried.Covariance[ti][i*p+j])); got != want {
					t.Fatalf("target %d: S_{t−1}[%d,%d] = %v, the state two training steps carried %v", ti, i, j, got, want)
				}
			}
		}
	}
	if _, err := tr.RegularizerSnapshot(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "fresh trainer") {
		t.Errorf("a second snapshot from the same trainer: %v", err)
	}
	if _, err := newTrainer(&paper).RegularizerSnapshot(context.Background(), 1000); err == nil || !strings.Contains(err.Error(), "needs 1001 batches") {
		t.Errorf("1000 steps on a tiny split: %v", err)
	}
}
