package synergy

import "testing"

// TestAfterStepAllocatesNothing: the moving covariances and the median
// heuristic reuse their buffers, so AfterStep allocates nothing after its
// first call.
func TestAfterStepAllocatesNothing(t *testing.T) {
	s := newRegStepper(t, DefaultConfig(DivergenceMMD), 8, []int{5, 3, 6}, 4)
	defer s.vm.Close()
	if err := s.step(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if err := s.att.AfterStep(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AfterStep: %v allocations per call, want 0", allocs)
	}
}
