package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// interruption is the error of a command stopped by SIGINT (Ctrl-C) or
// SIGTERM: run prints it and exits with status 128 + the signal's number,
// the shell's convention (130 for SIGINT, 143 for SIGTERM), so scripts and
// schedulers can tell an interrupted run (rerun to continue) from a
// failure (status 1).
type interruption struct {
	sig syscall.Signal
	// what says what was kept and how to continue.
	what string
}

func (e *interruption) Error() string {
	return fmt.Sprintf("interrupted by %s; %s", signalName(e.sig), e.what)
}

// exitCode returns 128 + the signal's number.
func (e *interruption) exitCode() int { return 128 + int(e.sig) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// stopSignal is the cause a signal gives the context of withSignals.
type stopSignal struct{ sig syscall.Signal }

func (s stopSignal) Error() string { return "received " + signalName(s.sig) }

// withSignals returns a context that the first SIGINT or SIGTERM cancels
// (with a stopSignal as its cause) and a function that stops listening.
// Training stops after its current step and saves a resume checkpoint; a
// second signal ends the process at once (the checkpoint of the last
// finished epoch remains).
func withSignals() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch) // a second signal takes its default action
			sig, _ := s.(syscall.Signal)
			slog.Warn("stopping after the current step; send the signal again to quit at once", "signal", signalName(sig))
			cancel(stopSignal{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interrupted returns err as an *interruption (with what as its advice)
// when a signal cancelled ctx, else err unchanged.
func interrupted(ctx context.Context, err error, what string) error {
	var s stopSignal
	if err == nil || !errors.As(context.Cause(ctx), &s) {
		return err
	}
	return &interruption{sig: s.sig, what: what}
}
