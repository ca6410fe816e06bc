package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEpochPrinter(t *testing.T) {
	var out strings.Builder
	clock := time.Unix(0, 0)
	p := newEpochPrinter(&out, func() time.Time { return clock })
	diag := func(loss, mae, acc float64) *EpochDiagnostics {
		return &EpochDiagnostics{TrainLoss: Number(loss), ValidMAE: Number(mae), ValidAcc: Number(acc)}
	}
	run := Event{Model: "lmf", Setting: "mmd[l2] (stable)", Seed: 1, MaxEpochs: 3, Run: 1, Runs: 2}
	at := func(seconds float64, e Event) {
		clock = time.Unix(0, 0).Add(time.Duration(seconds * float64(time.Second)))
		p.event(e)
	}
	e := run
	e.Kind = StageStart
	at(0, e) // starts the clock
	e.Kind, e.Step = StepDone, 1
	at(1, e) // prints nothing
	e.Kind, e.Epoch, e.Diagnostics = EpochDone, 1, diag(1.25, 1.5, math.NaN())
	at(2, e) // 2 s/epoch; 2 epochs of run 1 and 3 of run 2 left
	e.Epoch, e.Diagnostics = 2, diag(1, 1.25, math.NaN())
	at(3, e) // 1.5 s/epoch; 1 + 3 left
	e.Run, e.Epoch, e.Diagnostics = 2, 3, diag(0.5, 0.5, 0.75)
	at(6, e) // 2 s/epoch; nothing left
	e.Kind, e.Err = RunDone, errors.New("boom")
	at(6, e)
	e.Err = fmt.Errorf("train: interrupted: %w", context.Canceled)
	at(6, e)
	e.Err = nil
	at(6, e) // a finished run prints nothing
	alone := Event{Kind: EpochDone, Model: "pool", Seed: 7, Epoch: 1, MaxEpochs: 4}
	at(10, alone) // outside a grid: run 1 of 1, 2.5 s/epoch, 3 epochs left

	want := []string{
		"run 1/2 mmd[l2] (stable), lmf seed 1: epoch 1/3, train loss 1.2500, valid MAE 1.5000; 2.0 s/epoch, ETA 10s",
		"run 1/2 mmd[l2] (stable), lmf seed 1: epoch 2/3, train loss 1.0000, valid MAE 1.2500; 1.5 s/epoch, ETA 6s",
		"run 2/2 mmd[l2] (stable), lmf seed 1: epoch 3/3, train loss 0.5000, valid accuracy 0.7500; 2.0 s/epoch, ETA 0s",
		"run 2/2 mmd[l2] (stable), lmf seed 1: failed: boom",
		"run 2/2 mmd[l2] (stable), lmf seed 1: stopped: train: interrupted: context canceled",
		"pool seed 7: epoch 1/4; 2.5 s/epoch, ETA 8s",
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
