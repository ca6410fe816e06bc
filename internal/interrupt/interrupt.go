// Package interrupt turns SIGINT into the cancellation of one long library
// call — a training run, a grid — for as long as that call runs, so that a
// Jupyter kernel interrupt (Jupyter sends the kernel process SIGINT) or
// Ctrl-C stops the call at its next step boundary, with its checkpoint
// written, instead of ending the process.
//
// The subscription is scoped to the call: a Go program that has not asked
// for SIGINT dies of it, and the notebook kernel (gophernotes on gomacro)
// asks for it nowhere — gomacro subscribes only in its own terminal REPL,
// which the kernel does not run — so between library calls an interrupt
// still ends the kernel, as before. While a call holds the subscription,
// the signal only cancels the call's context.
package interrupt

import (
	"context"
	"os"
	"os/signal"
)

// Scope returns a context derived from parent that is cancelled when the
// process receives SIGINT (os.Interrupt), and the function that ends the
// scope. Call it at the start of a long call and stop when the call
// returns (defer stop()): from then on SIGINT has its previous effect
// again — the default, ending the process, unless some other part of the
// program subscribed to it (signal.NotifyContext).
func Scope(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt)
}
