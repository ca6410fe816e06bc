package train

import (
	"bytes"
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

func TestProgressDisabled(t *testing.T) {
	var buf bytes.Buffer
	if p := NewProgress(&buf, "x", 3, true); p != nil {
		t.Error("a bytes.Buffer is not a terminal, want a nil (no-op) bar")
	}
	var p *Progress
	p.Add(1) // no panic on the no-op bar
	p.SetSuffix("s")
	p.Done()
}
