// Package parallel runs the chunks of a loop whose chunks are independent
// on the calling goroutine and up to GOMAXPROCS−1 helper goroutines, handing
// the chunks out one at a time (dynamic scheduling).
//
// Why dynamic: a helper goroutine starts only when the runtime wakes an idle
// thread for it, which takes from a few to a hundred microseconds on a
// virtual machine — as long as a fifth of a 0.5 ms matrix product. With a
// static split (half the work to the caller, half to a helper) the caller
// finishes its half and waits for the late helper; here the caller keeps
// taking chunks, so a late helper only ever shortens the loop. The caller
// waits only for chunks a helper has already started, never for a helper
// to start.
//
// Results do not depend on the scheduling as long as each chunk's work does
// not depend on which worker runs it or when: chunk c is always the same
// range of the caller's choosing, so per-chunk partial results (a sum per
// chunk, added in chunk order afterwards) are reproducible bit for bit.
package parallel

import (
	"runtime"
	"sync/atomic"
)

// Do calls body(worker, c) once for every chunk c in [0, chunks), on the
// calling goroutine (worker 0) and up to min(GOMAXPROCS, chunks)−1 helper
// goroutines (workers 1, 2, ...), and returns when every call has returned.
// A worker index is held by one goroutine at a time, so body may use it to
// pick a scratch buffer among Workers(chunks) of them. With GOMAXPROCS 1 or
// a single chunk it starts no goroutine and allocates nothing. chunks ≤ 0
// does nothing.
func Do(chunks int, body func(worker, chunk int)) {
	workers := Workers(chunks)
	if workers <= 1 {
		for c := 0; c < chunks; c++ {
			body(0, c)
		}
		return
	}
	j := &job{chunks: int64(chunks), body: body, finished: make(chan struct{})}
	for w := 1; w < workers; w++ {
		go j.work(w)
	}
	j.work(0)
	if j.done.Load() < j.chunks {
		<-j.finished
	}
}

// Workers returns the number of workers Do uses for this many chunks:
// min(GOMAXPROCS, chunks), at least 1.
func Workers(chunks int) int {
	return max(1, min(runtime.GOMAXPROCS(0), chunks))
}

// job is one call of Do: next is the next chunk to hand out, done the
// number of chunks finished; the worker that finishes the last chunk closes
// finished. A helper that starts after every chunk was taken returns at
// once (the job stays reachable through it until then).
type job struct {
	next, done atomic.Int64
	chunks     int64
	body       func(worker, chunk int)
	finished   chan struct{}
}

// work takes chunks until none is left.
func (j *job) work(worker int) {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		j.body(worker, int(c))
		if j.done.Add(1) == j.chunks {
			close(j.finished)
		}
	}
}

// RowsMin is the fewest entries (rows × width) from which Rows spreads rows
// over goroutines: below it a goroutine's start costs about what it saves.
const RowsMin = 1 << 15

// Rows calls f on chunks [lo, hi) of whole rows covering [0, rows), up to
// 4 chunks per goroutine handed out by Do, when the rows hold at least
// RowsMin entries of width each (GOMAXPROCS > 1); else f(0, rows). The
// chunk bounds depend only on rows and GOMAXPROCS. f must write only to
// its rows (or, for a reduction, only to entries no other chunk writes):
// chunks run concurrently in any order.
func Rows(rows, width int, f func(lo, hi int)) {
	chunks := 1
	if rows*width >= RowsMin {
		chunks = min(rows, 4*runtime.GOMAXPROCS(0))
	}
	if chunks <= 1 {
		f(0, rows)
		return
	}
	Do(chunks, func(_, c int) { f(c*rows/chunks, (c+1)*rows/chunks) })
}
