package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestDoRunsEveryChunkOnce checks that every chunk runs exactly once, that
// worker indices stay below Workers(chunks), and that no worker index is
// used by two calls at the same time, for several GOMAXPROCS and chunk
// counts.
func TestDoRunsEveryChunkOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, chunks := range []int{0, 1, 2, 3, 7, 64, 1000} {
			counts := make([]atomic.Int32, max(chunks, 1))
			workers := Workers(chunks)
			busy := make([]atomic.Int32, workers)
			Do(chunks, func(w, c int) {
				if w < 0 || w >= workers {
					t.Errorf("GOMAXPROCS %d, %d chunks: worker %d, want < %d", procs, chunks, w, workers)
					return
				}
				if busy[w].Add(1) != 1 {
					t.Errorf("GOMAXPROCS %d, %d chunks: worker %d used twice at once", procs, chunks, w)
				}
				counts[c].Add(1)
				busy[w].Add(-1)
			})
			for c := 0; c < chunks; c++ {
				if n := counts[c].Load(); n != 1 {
					t.Errorf("GOMAXPROCS %d, %d chunks: chunk %d ran %d times", procs, chunks, c, n)
				}
			}
		}
	}
}

// TestDoWaitsForStartedChunks checks that Do returns only after every
// chunk has finished when a helper's chunk outlasts the caller's: the
// caller's first chunk waits until the helper has taken the other one.
func TestDoWaitsForStartedChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var finished atomic.Int32
	helperStarted := make(chan struct{})
	Do(2, func(w, c int) {
		if w != 0 {
			close(helperStarted)
			time.Sleep(20 * time.Millisecond)
		} else if c == 0 {
			<-helperStarted
		}
		finished.Add(1)
	})
	if n := finished.Load(); n != 2 {
		t.Fatalf("Do returned with %d of 2 chunks finished", n)
	}
}

// TestDoSerialAllocatesNothing checks the GOMAXPROCS 1 path starts no
// goroutine and allocates nothing.
func TestDoSerialAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	sum := 0
	body := func(_, c int) { sum += c }
	if a := testing.AllocsPerRun(10, func() { Do(8, body) }); a != 0 {
		t.Fatalf("Do with GOMAXPROCS 1 allocates %.0f times per call, want 0", a)
	}
	if sum != 10*28+28 { // AllocsPerRun runs the function once more to warm up
		t.Fatalf("chunk indices summed to %d", sum)
	}
}

// BenchmarkDo measures the cost of one Do call with two tiny chunks.
func BenchmarkDo(b *testing.B) {
	var x [2]int
	for b.Loop() {
		Do(2, func(_, c int) { x[c]++ })
	}
}
