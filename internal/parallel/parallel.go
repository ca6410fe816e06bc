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
// Why persistent helpers: a new goroutine runs once the runtime has woken
// an idle thread for it (a futex wake), which on this kind of virtual
// machine takes ~190 µs at the median and milliseconds in the tail (go tool
// trace of MAG-BERT at MOSEI shapes, ~180 calls per training step: the
// caller ran alone for 18 of the 40 ms per step spent in Do, its helper
// taking 25–45 % of the chunks). So Do hands its job to GOMAXPROCS−1
// helper goroutines that outlive it: after a job a helper polls for the
// next one for helperSpin before it parks, and joins a job offered in that
// time within microseconds; a parked helper is woken as before. A Do
// nested in a body while another job is still being handed out starts
// goroutines of its own, as every Do used to.
//
// Results do not depend on the scheduling as long as each chunk's work does
// not depend on which worker runs it or when: chunk c is always the same
// range of the caller's choosing, so per-chunk partial results (a sum per
// chunk, added in chunk order afterwards) are reproducible bit for bit.
package parallel

import (
	"runtime"
	"sync/atomic"
	"time"
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
	j := &job{chunks: int64(chunks), workers: int64(workers), body: body, finished: make(chan struct{})}
	if helpers.offer(j) {
		j.work(0)
		helpers.job.CompareAndSwap(j, nil) // no-op unless chunks ≤ 0
	} else {
		for w := 1; w < workers; w++ {
			go j.work(w)
		}
		j.work(0)
	}
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
	workers    int64        // Workers(chunks)
	joined     atomic.Int64 // helpers that took the job from the pool
	seq        uint64       // the pool's number for the job
	body       func(worker, chunk int)
	finished   chan struct{}
}

// work takes chunks until none is left. The worker that takes the last
// chunk withdraws the job from the pool (helpers.job): a Do in that
// chunk's body, or any later one, can then offer its own.
func (j *job) work(worker int) {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		if c == j.chunks-1 {
			helpers.job.CompareAndSwap(j, nil)
		}
		j.body(worker, int(c))
		if j.done.Add(1) == j.chunks {
			close(j.finished)
		}
	}
}

// helperSpin is how long an idle helper polls for a job before it parks:
// longer than most gaps between the parallel loops of a training step
// (MAG-BERT at MOSEI shapes: median 14 µs, 75 % under 22 µs), short enough
// that a helper spinning in a longer serial stretch, or on a host whose
// cores other processes want, costs little (1 ms or 200 µs of polling made
// the step slower on a loaded host; 15–50 µs all did about as well).
const helperSpin = 30 * time.Microsecond

// helperPreempted is the gap between two of a polling helper's looks at
// the clock (64 polls and a runtime.Gosched apart, well under a
// microsecond when it has a core) beyond which it takes its thread to have
// been descheduled, or its processor to have been wanted by another
// goroutine, and parks at once: on a host whose cores other processes
// want, polling takes the time of a thread that has work (MAG-BERT at
// load average 3–4: +5 % CPU per step with 30 µs of polling throughout).
const helperPreempted = 10 * time.Microsecond

// helpers is the pool of helper goroutines. job is the job being handed
// out (nil: none); a helper joins it as worker 1 + the number of helpers
// that joined before it, while that is below the job's worker count.
// started counts the helpers (GOMAXPROCS−1 at its largest so far), parked
// those blocked on wake.
var helpers pool

type pool struct {
	job     atomic.Pointer[job]
	seq     atomic.Uint64 // the jobs offered so far
	started atomic.Int64
	parked  atomic.Int64
	wake    chan struct{}
}

func init() { helpers.wake = make(chan struct{}, 256) }

// offer makes j the pool's job and reports true, starting helpers up to
// j.workers−1 and waking parked ones; it reports false (j is not offered)
// while another job is being handed out.
func (p *pool) offer(j *job) bool {
	j.seq = p.seq.Add(1)
	if !p.job.CompareAndSwap(nil, j) {
		return false
	}
	for n := p.started.Load(); n < j.workers-1; n = p.started.Load() {
		if p.started.CompareAndSwap(n, n+1) {
			go p.help()
		}
	}
	// A helper about to park counts itself in parked before it looks at
	// job a last time: either it sees j or this sees it parked.
	for n := min(p.parked.Load(), j.workers-1); n > 0; n-- {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// help is a helper goroutine's loop: it joins each job it finds, polling
// for the next one for helperSpin (yielding the processor now and then)
// before it parks until offer wakes it. It remembers the last job by its
// number, so that a finished job (and what its body holds) is garbage.
func (p *pool) help() {
	var last uint64
	for {
		j := p.next(last)
		last = j.seq
		if w := j.joined.Add(1); w < j.workers {
			j.work(int(w))
		}
	}
}

// next returns the pool's job once it is not job number last, polling
// (until helperSpin has passed, or it seems to have been descheduled:
// helperPreempted), then parked.
func (p *pool) next(last uint64) *job {
	for {
		start := time.Now()
		prev := start
		for i := 1; ; i++ {
			if j := p.job.Load(); j != nil && j.seq != last {
				return j
			}
			if i%64 == 0 {
				now := time.Now()
				if now.Sub(start) > helperSpin || now.Sub(prev) > helperPreempted {
					break
				}
				prev = now
				runtime.Gosched()
			}
		}
		p.parked.Add(1)
		if j := p.job.Load(); j != nil && j.seq != last {
			p.parked.Add(-1)
			return j
		}
		<-p.wake
		p.parked.Add(-1)
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
