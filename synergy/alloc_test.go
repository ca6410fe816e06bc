package synergy

import "testing"

// TestMovingAveragesAllocateNothing: the moving covariances and the median
// heuristic reuse their buffers, so Step's update of them allocates
// nothing after its first call.
func TestMovingAveragesAllocateNothing(t *testing.T) {
	s := newRegStepper(t, DefaultConfig(DivergenceMMD), 8, []int{5, 3, 6}, 4)
	defer s.vm.Close()
	if err := s.step(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if err := s.reg.updateAverages(s.att); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("updateAverages: %v allocations per call, want 0", allocs)
	}
}
