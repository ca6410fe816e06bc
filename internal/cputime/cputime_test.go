//go:build unix

package cputime

import "testing"

// Spinning for a while advances the process CPU time.
func TestProcessAdvances(t *testing.T) {
	before := Process()
	x := 0.0
	for i := 0; i < 50_000_000 && Process() == before; i++ {
		x += float64(i)
	}
	if Process() <= before {
		t.Fatalf("process CPU time did not advance (%v, sum %v)", before, x)
	}
}
