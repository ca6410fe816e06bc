package train

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
)

// TestEpochWallTime measures one training epoch (plus validation) of every
// registered model on synth:mosi at scale 1, without and with the MMD
// regularizer. It is slow, so it runs only with SYNERGO_TIMING=1.
func TestEpochWallTime(t *testing.T) {
	if os.Getenv("SYNERGO_TIMING") == "" {
		t.Skip("set SYNERGO_TIMING=1 to measure epoch times")
	}
	ds, err := datasets.Open("synth:mosi:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range models.Names() {
		for _, reg := range []string{"none", "mmd"} {
			cfg := regularizer(t, reg)
			var lastBatch time.Time
			opts := Options{Model: name, Regularizer: cfg, Seed: 1111, BatchSize: 32, LearningRate: 1e-3, MaxEpochs: 1, Logger: quietLogger(),
				OnProgress: afterBatch(func(int, int) { lastBatch = time.Now() })}
			start := time.Now()
			tr, err := New(ds, opts)
			if err != nil {
				t.Fatal(err)
			}
			trainStart := time.Now()
			if _, err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Logf("%-7s reg=%-4s setup %5.2fs, training epoch (%d samples) %7.2fs, validation + final evaluation %6.2fs (valid MAE %.4f)",
				name, reg, trainStart.Sub(start).Seconds(), ds.Train.Len(), lastBatch.Sub(trainStart).Seconds(),
				time.Since(lastBatch).Seconds(), float64(tr.Diagnostics()[0].ValidMAE))
		}
	}
}
