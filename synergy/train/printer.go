package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// EpochPrinter returns an Options.OnProgress that writes one line to w per
// validated epoch, e.g.
//
//	run 2/5 mmd[l2] (stable), lmf seed 1: epoch 3/8, train loss 1.2345, valid MAE 1.1234; 2.1 s/epoch, ETA 38s
//
// and one line per run of a grid that failed or was stopped. The ETA is the remaining
// epochs of the call — the current run's and MaxEpochs for each of the
// Runs − Run runs still to come (Event.Run, Event.Runs; a run outside a
// grid counts as run 1 of 1) — at the mean time per epoch this printer has
// seen so far (validation included); early stopping and runs finished
// earlier make the call end sooner. A nil w writes to the process's
// standard output as it is at each line: in the notebook kernel, which
// points os.Stdout at the running cell, the output of the cell that runs
// the call.
func EpochPrinter(w io.Writer) func(Event) {
	return newEpochPrinter(w, time.Now).event
}

// epochPrinter is EpochPrinter's state: when it saw its first event and
// how many epochs it has seen end since.
type epochPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	now    func() time.Time
	start  time.Time
	epochs int
}

func newEpochPrinter(w io.Writer, now func() time.Time) *epochPrinter {
	return &epochPrinter{w: w, now: now}
}

func (p *epochPrinter) event(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = p.now()
	}
	switch e.Kind {
	case EpochDone:
		p.epochs++
		p.println(p.epochLine(e))
	case RunDone:
		switch {
		case errors.Is(e.Err, context.Canceled), errors.Is(e.Err, context.DeadlineExceeded):
			p.println(fmt.Sprintf("%s: stopped: %v", runName(e), e.Err))
		case e.Err != nil:
			p.println(fmt.Sprintf("%s: failed: %v", runName(e), e.Err))
		}
	}
}

// epochLine describes a validated epoch and the time the call still needs.
func (p *epochPrinter) epochLine(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: epoch %d/%d", runName(e), e.Epoch, e.MaxEpochs)
	if d := e.Diagnostics; d != nil {
		fmt.Fprintf(&b, ", train loss %.4f", float64(d.TrainLoss))
		if acc := float64(d.ValidAcc); !math.IsNaN(acc) {
			fmt.Fprintf(&b, ", valid accuracy %.4f", acc)
		} else {
			fmt.Fprintf(&b, ", valid MAE %.4f", float64(d.ValidMAE))
		}
	}
	perEpoch := p.now().Sub(p.start) / time.Duration(p.epochs)
	run, runs := max(e.Run, 1), max(e.Runs, 1)
	left := max(e.MaxEpochs-e.Epoch, 0) + max(runs-run, 0)*e.MaxEpochs
	fmt.Fprintf(&b, "; %.1f s/epoch, ETA %s", perEpoch.Seconds(), (time.Duration(left) * perEpoch).Round(time.Second))
	return b.String()
}

// runName names the run of an event: "run 2/5 mmd[l2] (stable), lmf seed 1".
func runName(e Event) string {
	var b strings.Builder
	if e.Runs > 0 {
		fmt.Fprintf(&b, "run %d/%d ", e.Run, e.Runs)
	}
	if e.Setting != "" {
		b.WriteString(e.Setting + ", ")
	}
	fmt.Fprintf(&b, "%s seed %d", e.Model, e.Seed)
	return b.String()
}

func (p *epochPrinter) println(line string) {
	w := p.w
	if w == nil {
		w = os.Stdout
	}
	fmt.Fprintln(w, line)
}
