package train

import (
	"errors"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
)

// TestRebuildOnHashCollision checks that a graph gorgonia would miscompile
// (nn.HashCollisionError) is built again, at most maxGraphBuilds times, and
// that other errors are returned at once.
func TestRebuildOnHashCollision(t *testing.T) {
	collide := &nn.HashCollisionError{Hash: 0xdeadbeef}
	for _, tc := range []struct {
		collisions int
		wantCalls  int
		wantErr    bool
	}{{0, 1, false}, {1, 2, false}, {maxGraphBuilds - 1, maxGraphBuilds, false}, {maxGraphBuilds, maxGraphBuilds, true}} {
		calls := 0
		v, err := rebuildOnHashCollision(func() (int, error) {
			calls++
			if calls <= tc.collisions {
				return 0, collide
			}
			return 42, nil
		})
		if calls != tc.wantCalls || (err != nil) != tc.wantErr || (err == nil && v != 42) {
			t.Errorf("%d collisions: %d builds, value %d, error %v; want %d builds, error %v", tc.collisions, calls, v, err, tc.wantCalls, tc.wantErr)
		}
	}
	other := errors.New("model cannot be built")
	calls := 0
	if _, err := rebuildOnHashCollision(func() (int, error) { calls++; return 0, other }); err != other || calls != 1 {
		t.Errorf("other error: %v after %d builds, want it after 1", err, calls)
	}
}
