package gctune

import (
	"runtime/debug"
	"testing"
)

// ForTraining sets the target to Percent and restores the previous one;
// with GOGC in the environment it changes nothing.
func TestForTraining(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(60)
	defer debug.SetGCPercent(before)
	restore := ForTraining()
	if got := debug.SetGCPercent(Percent); got != Percent {
		t.Errorf("during training the target is %d, want %d", got, Percent)
	}
	restore()
	if got := debug.SetGCPercent(60); got != 60 {
		t.Errorf("after restore the target is %d, want 60", got)
	}
	t.Setenv("GOGC", "150")
	ForTraining()()
	if got := debug.SetGCPercent(60); got != 60 {
		t.Errorf("with GOGC set the target became %d, want it left at 60", got)
	}
}
