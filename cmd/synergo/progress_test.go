package main

import (
	"os"

	"bytes"
	"github.com/synergo/synergo/synergy/train"
	"strings"
	"testing"
	"time"
)

func TestProgressLineAndRateLimit(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&buf, "epoch 1", 10, func() time.Time { return now })
	now = now.Add(2 * time.Second)
	p.Add(4) // 2 steps/s, 6 left → ETA 3s
	if got := p.line(now); !strings.Contains(got, "4/10") || !strings.Contains(got, "2.0/s") || !strings.Contains(got, "ETA 3s") {
		t.Errorf("line %q, want 4/10 at 2.0/s with ETA 3s", got)
	}
	draws := strings.Count(buf.String(), "\r")
	now = now.Add(10 * time.Millisecond)
	p.Add(1) // within MinInterval: no redraw
	if n := strings.Count(buf.String(), "\r"); n != draws {
		t.Errorf("redrew within the minimum interval (%d → %d draws)", draws, n)
	}
	now = now.Add(time.Second)
	p.Add(1)
	if n := strings.Count(buf.String(), "\r"); n != draws+1 {
		t.Errorf("did not redraw after the minimum interval (%d → %d draws)", draws, n)
	}
}

func TestProgressBarsFromEvents(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	bars := newBars(&buf, func() time.Time { return now })
	bars(train.Event{Kind: train.StageStart, Run: 2, Runs: 5, Epoch: 3, Stage: "stage 0", Step: 1, Steps: 4, Resumed: 1})
	now = now.Add(time.Second)
	bars(train.Event{Kind: train.StepDone, Epoch: 3, Stage: "stage 0", Step: 2, Steps: 4, Loss: 0.25})
	bars(train.Event{Kind: train.StageEnd})
	out := buf.String()
	for _, want := range []string{"run 2/5 epoch 3 stage 0", "2/4", "loss 0.2500"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output %q lacks %q", out, want)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("bar output %q does not end its line", out)
	}
	if progressBars(&buf, true) != nil || progressBars(os.Stderr, false) != nil {
		t.Error("bars on a bytes.Buffer or when disabled, want none")
	}
	var p *Progress
	p.Add(1) // no panic on the no-op bar
	p.SetSuffix("s")
	p.Done()
}
