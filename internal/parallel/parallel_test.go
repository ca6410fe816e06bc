package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"
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

// TestDoConcurrentAndNested runs Do from several goroutines at once, with
// a Do nested in some chunks, for GOMAXPROCS 2 and 4: every chunk of
// every call runs exactly once and no worker index is used twice at once
// within a call (a job the pool is handing out, and the others, which
// start goroutines of their own).
func TestDoConcurrentAndNested(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{2, 4} {
		runtime.GOMAXPROCS(procs)
		var wg sync.WaitGroup
		var bad atomic.Int32
		for g := 0; g < 4; g++ {
			wg.Go(func() {
				for call := 0; call < 300; call++ {
					chunks := 1 + (call+g)%9
					counts := make([]atomic.Int32, chunks)
					busy := make([]atomic.Int32, Workers(chunks))
					nested := make([]atomic.Int32, 5)
					Do(chunks, func(w, c int) {
						if busy[w].Add(1) != 1 {
							bad.Add(1)
						}
						counts[c].Add(1)
						if c%3 == 1 {
							Do(len(nested), func(_, k int) { nested[k].Add(1) })
						}
						busy[w].Add(-1)
					})
					for c := range counts {
						if counts[c].Load() != 1 {
							bad.Add(1)
						}
					}
					for k := range nested {
						if n := nested[k].Load(); n != int32((chunks+1)/3) {
							bad.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		if n := bad.Load(); n != 0 {
			t.Errorf("GOMAXPROCS %d: %d chunks ran other than once or worker indices overlapped", procs, n)
		}
	}
}

// TestDoKeepsItsHelpers checks that calls of Do reuse the pool's helper
// goroutines: with GOMAXPROCS 2, after a first call the pool has a helper
// and starts no other in 1000 calls, nor does the number of goroutines
// grow.
func TestDoKeepsItsHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var sink atomic.Int64
	Do(4, func(_, c int) { sink.Add(int64(c)) })
	before, started := runtime.NumGoroutine(), helpers.started.Load()
	for range 1000 {
		Do(4, func(_, c int) { sink.Add(int64(c)) })
	}
	if started < 1 {
		t.Errorf("the pool has no helper after a call with GOMAXPROCS 2")
	}
	if n := helpers.started.Load(); n != started {
		t.Errorf("the pool started %d helpers in 1000 calls", n-started)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after 1000 calls of Do, %d before", after, before)
	}
}

// TestDoReleasesFinishedJob checks that nothing keeps a finished job (and
// what its body references) alive: the pool's helpers remember the last
// job by its number only.
func TestDoReleasesFinishedJob(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	big := new([1 << 16]float64)
	ref := weak.Make(big)
	helped := make(chan struct{})
	// The body's reference, never reassigned; a helper takes one chunk, so
	// it has seen the job.
	data := big[:]
	Do(2, func(w, c int) {
		data[c]++
		if w != 0 {
			close(helped)
		} else if c == 0 {
			<-helped
		}
	})
	big = nil
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if ref.Value() != nil {
		t.Fatal("the memory a finished Do's body referenced is still reachable")
	}
}
