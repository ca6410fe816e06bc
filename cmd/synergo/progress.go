package main

import (
	"fmt"
	"github.com/synergo/synergo/synergy/train"
	"io"
	"os"
	"strings"
	"time"
)

// Progress is a one-line progress bar with rate and ETA, redrawn in place on
// a terminal at most every MinInterval. A nil *Progress does nothing.
type Progress struct {
	w           io.Writer
	label       string
	total, done int
	suffix      string
	start, last time.Time
	// MinInterval is the least time between two redraws (default 200 ms).
	MinInterval time.Duration
	now         func() time.Time
}

func newProgress(w io.Writer, label string, total int, now func() time.Time) *Progress {
	t := now()
	return &Progress{w: w, label: label, total: total, start: t, MinInterval: 200 * time.Millisecond, now: now}
}

// isTerminal reports whether w is an *os.File attached to a character
// device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add advances the bar by n steps and redraws it if MinInterval has passed.
func (p *Progress) Add(n int) {
	if p == nil {
		return
	}
	p.done += n
	if t := p.now(); t.Sub(p.last) >= p.MinInterval || p.done >= p.total {
		p.last = t
		p.draw(t)
	}
}

// SetSuffix sets text shown after the bar (e.g. the running loss).
func (p *Progress) SetSuffix(s string) {
	if p != nil {
		p.suffix = s
	}
}

// Done finishes the line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.draw(p.now())
	fmt.Fprintln(p.w)
}

// line renders the bar: label [=====>    ] done/total rate ETA suffix.
func (p *Progress) line(t time.Time) string {
	const width = 24
	frac := 0.0
	if p.total > 0 {
		frac = min(1, float64(p.done)/float64(p.total))
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	elapsed := t.Sub(p.start).Seconds()
	eta := "?"
	rate := 0.0
	if elapsed > 0 && p.done > 0 {
		rate = float64(p.done) / elapsed
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s [%s] %d/%d %.1f/s ETA %s %s", p.label, bar, p.done, p.total, rate, eta, p.suffix)
}

func (p *Progress) draw(t time.Time) {
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(t))
}

// progressBars returns the Options.OnProgress that draws a bar per stage
// of every epoch on w ("run 3/20 epoch 2 stage 0 [====>   ] 30/40 6.1/s
// ETA 2s loss 0.8123"), or nil when enabled is false or w is not a
// terminal.
func progressBars(w io.Writer, enabled bool) func(train.Event) {
	if !enabled || !isTerminal(w) {
		return nil
	}
	return newBars(w, time.Now)
}

// newBars is progressBars on any writer with the clock now.
func newBars(w io.Writer, now func() time.Time) func(train.Event) {
	var bar *Progress
	return func(e train.Event) {
		switch e.Kind {
		case train.StageStart:
			label := fmt.Sprintf("epoch %d", e.Epoch)
			if e.Stage != "" {
				label += " " + e.Stage
			}
			if e.Runs > 0 {
				label = fmt.Sprintf("run %d/%d %s", e.Run, e.Runs, label)
			}
			bar = newProgress(w, label, e.Steps, now)
			bar.Add(e.Step)
		case train.StepDone:
			bar.SetSuffix(fmt.Sprintf("loss %.4f", e.Loss))
			bar.Add(1)
		case train.StageEnd:
			bar.Done()
			bar = nil
		}
	}
}
