package simdblas

import (
	"runtime"
	"sync"

	"github.com/synergo/synergo/internal/parallel"
	"unsafe"
)

// Float is the element type of the products.
type Float interface{ float32 | float64 }

// microKernel computes one mr×nr tile of C (see asm_gen.go):
//
//	acc[i][j] = Σ_{p<k} a(i, p)·b(p, j)   (one fused multiply-add per p, p ascending)
//	C[i][j]   = alpha·acc[i][j] + beta·C[i][j]   (beta·C only when readC)
//
// with b(p, j) = b[p·sb + j] and a(i, p) = a[p·sa + i] (p-major A) or
// a[i·sa + p] (row-major A), pointers to the first element.
type microKernel[T Float] func(k int, a *T, sa int, b *T, sb int, c *T, ldc int, alpha, beta T, readC bool)

// transposePack packs the nr×k row-major block at src (rows ld apart) into
// dst p-major: dst[p·nr + j] = src[j·ld + p]; k is a multiple of the
// arch's transBlock.
type transposePack[T Float] func(k int, src *T, ld int, dst *T)

// arch is one element type's micro-kernels and cache blocking.
//
// The product runs the loop nest of Goto and van de Geijn ("Anatomy of
// high-performance matrix multiplication", ACM TOMS 34(3), 2008): columns of
// C in blocks of nc, the summed dimension in blocks of kc (a kc×nc block of
// op(B) stays in the L2/L3 cache), rows in blocks of mc, then nr-column
// panels of B against mr-row panels of A, one micro-kernel call each. Full
// panels of A are read in place (row-major or transposed); panels of B are
// packed contiguous (by assembly: row copies, or register transposes of a
// transposed B) unless B is untransposed and C has fewer than packBMinRows
// rows, when full panels are read in place; edge panels are packed by Go
// loops, zero-padded to the panel width (nr, or a narrow kernel's).
type arch[T Float] struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	pMajorA    microKernel[T]   // A p-major: packed panels, or op(A) = Aᵀ read in place
	rowMajorA  microKernel[T]   // op(A) = A read in place, rows lda apart
	packBTrans transposePack[T] // nil: transposed panels are packed by Go loops
	transBlock int              // columns per step of packBTrans
	packBRows  transposePack[T] // packs untransposed panels: dst[p·nr + j] = src[p·ld + j]
	// packBMinRows is the fewest rows of C for which full panels of an
	// untransposed B are packed rather than read in place: the copy is
	// repaid by contiguous, conflict-free panels once enough rows of A
	// sweep each panel.
	packBMinRows int
	// narrow are kernels with the same mr and fewer columns, by ascending
	// nr: the last panel of a column block narrower than nr is packed to
	// the width of the first that holds it and runs on it (less work on
	// padding than a full-width kernel).
	narrow []narrowKernel[T]
	pool   workspacePool[T]
}

// narrowKernel is a micro-kernel pair for nr columns (fewer than its
// arch's).
type narrowKernel[T Float] struct {
	nr                 int
	pMajorA, rowMajorA microKernel[T]
}

// blockK is the depth of the summation blocks for a product over k:
// ⌈k/kc⌉ blocks of (nearly) equal depth. It depends on k alone, so every
// element of C is summed in the same order whatever the split of C.
func blockK(k, kc int) int {
	blocks := (k + kc - 1) / kc
	return (k + blocks - 1) / blocks
}

// gemm computes C = alpha·op(A)·op(B) + beta·C for alpha ≠ 0 and k > 0 on
// the calling goroutine (arguments already checked). Every element of C is
// Σ over the summation blocks, in order, of alpha·(that block's fused
// multiply-add chain), added to beta·C (or to the running C for the later
// blocks), whatever its position in the tiles: results do not depend on
// the split of C, on alignment or on the number of goroutines.
//
// cRows, if not nil, places the rows of the product: row i goes to row
// cRows[i] of C (strictly increasing). A tile whose mr rows are
// consecutive in C is written in place by the micro-kernel; any other is
// computed into the tile buffer and merged row by row (mergeTile rounds as
// the kernel does), so each row is the same as in the product with cRows
// nil.
//
// pb, if not nil, holds op(B) already packed (PackB; b is then not read):
// every panel is read from it.
func (ar *arch[T]) gemm(ws *workspace[T], aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, cRows []int, pb *PackedB[T]) {
	mr, nr := ar.mr, ar.nr
	kc := blockK(k, ar.kc)
	tile := ws.ensureTile(mr * nr)
	packAllB := bTrans || m >= ar.packBMinRows
	for jc := 0; jc < n; jc += ar.nc {
		ncb := min(ar.nc, n-jc)
		var bPacked []T // panel jr at jr·kcb, packed while the first row block runs
		if pb == nil && (packAllB || ncb%nr != 0) {
			bPacked = ws.ensureB((ncb + nr - 1) / nr * nr * kc)
		}
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			blockBeta, readC := beta, beta != 0
			if pc > 0 {
				blockBeta, readC = 1, true
			}
			for ic := 0; ic < m; ic += ar.mc {
				mcb := min(ar.mc, m-ic)
				var aEdge []T // the last panel when it has fewer than mr rows
				if h := mcb % mr; h != 0 {
					aEdge = ar.packAEdge(ws, aTrans, a, lda, ic+mcb-h, h, pc, kcb)
				}
				for jr := 0; jr < ncb; jr += nr {
					w := min(nr, ncb-jr)
					pnr, pMajorA, rowMajorA := ar.panelKernels(w) // the panel's width and kernels
					var bp *T
					sb := pnr
					switch {
					case pb != nil:
						bp = &pb.block(jc, pc)[jr*kcb]
					case !packAllB && w == nr: // read in place
						bp, sb = &b[pc*ldb+jc+jr], ldb
					case ic == 0:
						panel := bPacked[jr*kcb : (jr+pnr)*kcb]
						ar.packBPanel(panel, pnr, bTrans, b, ldb, pc, kcb, jc+jr, w)
						bp = &panel[0]
					default:
						bp = &bPacked[jr*kcb]
					}
					for ir := 0; ir < mcb; ir += mr {
						h := min(mr, mcb-ir)
						i := ic + ir
						kern, ap, sa := pMajorA, (*T)(nil), 0
						switch {
						case h < mr:
							ap, sa = &aEdge[0], mr
						case aTrans:
							ap, sa = &a[pc*lda+i], lda
						default:
							kern, ap, sa = rowMajorA, &a[i*lda+pc], lda
						}
						ci, inPlace := i*ldc+jc+jr, h == mr && w == pnr
						if cRows != nil {
							ci = cRows[i]*ldc + jc + jr
							inPlace = inPlace && cRows[i+mr-1]-cRows[i] == mr-1
						}
						if inPlace {
							kern(kcb, ap, sa, bp, sb, &c[ci], ldc, alpha, blockBeta, readC)
							continue
						}
						kern(kcb, ap, sa, bp, sb, &tile[0], nr, 1, 0, false)
						if cRows == nil {
							mergeTile(tile, nr, h, w, alpha, blockBeta, readC, c[ci:], ldc)
							continue
						}
						for r := 0; r < h; r++ {
							mergeTile(tile[r*nr:], nr, 1, w, alpha, blockBeta, readC, c[cRows[i+r]*ldc+jc+jr:], ldc)
						}
					}
				}
			}
		}
	}
}

// panelKernels returns the width a panel of w ≤ nr columns of op(B) is
// packed to and the kernels that run on it: nr and the arch's own, or the
// first narrow kernel that holds w.
func (ar *arch[T]) panelKernels(w int) (nr int, pMajorA, rowMajorA microKernel[T]) {
	if w < ar.nr {
		for _, nk := range ar.narrow {
			if w <= nk.nr {
				return nk.nr, nk.pMajorA, nk.rowMajorA
			}
		}
	}
	return ar.nr, ar.pMajorA, ar.rowMajorA
}

// panelWidth is the packed width of a panel of w columns (panelKernels).
func (ar *arch[T]) panelWidth(w int) int {
	nr, _, _ := ar.panelKernels(w)
	return nr
}

// mergeTile writes the h×w corner of an edge tile (acc, rows ldt apart)
// into C with the micro-kernel's rounding: C = T(alpha·acc) + T(beta·C).
// The explicit conversions keep the compiler from fusing the operations.
// With alpha = 1 (and beta = 1) the products are exact and left out: C =
// acc, or acc + C.
func mergeTile[T Float](tile []T, ldt, h, w int, alpha, beta T, readC bool, c []T, ldc int) {
	for i := 0; i < h; i++ {
		t := tile[i*ldt : i*ldt+w]
		row := c[i*ldc : i*ldc+w]
		switch {
		case alpha == 1 && !readC:
			copy(row, t)
		case alpha == 1 && beta == 1:
			for j, v := range t {
				row[j] += v
			}
		case readC:
			for j := range row {
				row[j] = T(alpha*t[j]) + T(beta*row[j])
			}
		default:
			for j := range row {
				row[j] = T(alpha * t[j])
			}
		}
	}
}

// packBPanel packs the kcb×w panel of op(B) at (pc, j) p-major into d,
// zero-padded to nr columns (ar.nr or a narrow kernel's): d[p·nr + jj] =
// op(B)[pc+p][j+jj].
func (ar *arch[T]) packBPanel(d []T, nr int, bTrans bool, b []T, ldb, pc, kcb, j, w int) {
	if !bTrans && w == nr && nr == ar.nr && ar.packBRows != nil {
		ar.packBRows(kcb, &b[pc*ldb+j], ldb, &d[0])
		return
	}
	if !bTrans {
		for p := 0; p < kcb; p++ {
			row := d[p*nr : (p+1)*nr]
			copy(row, b[(pc+p)*ldb+j:(pc+p)*ldb+j+w])
			clear(row[w:])
		}
		return
	}
	p0 := 0 // columns of the block before p0 packed by the assembly
	if w == nr && nr == ar.nr && ar.packBTrans != nil {
		p0 = kcb - kcb%ar.transBlock
		ar.packBTrans(p0, &b[j*ldb+pc], ldb, &d[0])
	}
	for jj := 0; jj < w; jj++ {
		src := b[(j+jj)*ldb+pc : (j+jj)*ldb+pc+kcb]
		for p := p0; p < kcb; p++ {
			d[p*nr+jj] = src[p]
		}
	}
	for p := p0; p < kcb; p++ {
		clear(d[p*nr+w : (p+1)*nr])
	}
}

// packAEdge packs the last h < mr rows i.. of op(A) over columns pc..pc+kcb
// p-major, zero-padded to mr rows, and returns the packed panel.
func (ar *arch[T]) packAEdge(ws *workspace[T], aTrans bool, a []T, lda, i, h, pc, kcb int) []T {
	mr := ar.mr
	d := ws.ensureA(mr * kcb)
	if aTrans {
		for p := 0; p < kcb; p++ {
			row := d[p*mr : (p+1)*mr]
			copy(row, a[(pc+p)*lda+i:(pc+p)*lda+i+h])
			clear(row[h:])
		}
		return d
	}
	for ii := 0; ii < mr; ii++ {
		if ii >= h {
			for p := 0; p < kcb; p++ {
				d[p*mr+ii] = 0
			}
			continue
		}
		src := a[(i+ii)*lda+pc : (i+ii)*lda+pc+kcb]
		for p, v := range src {
			d[p*mr+ii] = v
		}
	}
	return d
}

// parallelMin is the smallest m·n·k that run spreads over goroutines: below
// it the start and join of a goroutine (µs, more on a loaded host) is not
// repaid.
const parallelMin = 1 << 21

// chunksPerWorker is how many chunks run cuts a parallel product into per
// goroutine: the chunks are handed out one at a time (internal/parallel),
// so a helper goroutine that starts late, or a core that a loaded host
// slows down, costs at most a chunk's time at the end.
const chunksPerWorker = 4

// run computes C = alpha·op(A)·op(B) + beta·C (alpha ≠ 0, k > 0): unless
// serial, large products on GOMAXPROCS goroutines, in chunks of whole
// mr-row panels of C (when m ≥ n) or whole nr-column panels (else); the
// summed dimension is never cut, so results are bit-identical to one
// goroutine's.
//
// cRows, if not nil, is gemm's: the rows of C that the m rows of the
// product go to.
func (ar *arch[T]) run(serial, aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, cRows []int) {
	ar.runPacked(serial, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cRows, nil)
}

// runPacked is run with op(B) packed (pb, PackB) when pb is not nil; a
// split of the columns then runs on the whole of pb from each worker, so
// only splits of the rows are used.
func (ar *arch[T]) runPacked(serial, aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, cRows []int, pb *PackedB[T]) {
	workers := 1
	if !serial && m*n*k >= parallelMin {
		workers = runtime.GOMAXPROCS(0)
	}
	unit, extent := ar.nr, n
	if m >= n || pb != nil {
		unit, extent = ar.mr, m
	}
	panels := (extent + unit - 1) / unit
	if workers <= 1 || panels <= 1 {
		ws := ar.pool.get()
		ar.gemm(ws, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cRows, pb)
		ar.pool.put(ws)
		return
	}
	chunks := min(panels, workers*chunksPerWorker)
	parallel.Do(chunks, func(_, s int) {
		lo, hi := s*panels/chunks*unit, min((s+1)*panels/chunks*unit, extent)
		ws := ar.pool.get()
		defer ar.pool.put(ws)
		if m >= n || pb != nil {
			aOff := lo * lda // rows lo.. of A
			if aTrans {
				aOff = lo // columns lo.. of A
			}
			if cRows != nil {
				ar.gemm(ws, aTrans, bTrans, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c, ldc, cRows[lo:hi], pb)
				return
			}
			ar.gemm(ws, aTrans, bTrans, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc, nil, pb)
			return
		}
		bOff := lo // columns lo.. of B
		if bTrans {
			bOff = lo * ldb // rows lo.. of B
		}
		ar.gemm(ws, aTrans, bTrans, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc, cRows, nil)
	})
}

// workspace holds one goroutine's packing buffers; they grow to the
// largest product seen and are reused, so products allocate nothing once
// warm.
type workspace[T Float] struct {
	a, b, tile []T
}

// cacheLine is the alignment of the packing buffers (bytes).
const cacheLine = 64

// alignedSlice returns a slice of n elements whose first element is
// cacheLine-aligned.
func alignedSlice[T Float](n int) []T {
	var zero T
	pad := cacheLine / int(unsafe.Sizeof(zero))
	s := make([]T, n+pad)
	off := 0
	for uintptr(unsafe.Pointer(&s[off]))%cacheLine != 0 {
		off++
	}
	return s[off : off+n : off+n]
}

func ensure[T Float](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = alignedSlice[T](n)
	}
	return (*buf)[:n]
}

func (ws *workspace[T]) ensureA(n int) []T    { return ensure(&ws.a, n) }
func (ws *workspace[T]) ensureB(n int) []T    { return ensure(&ws.b, n) }
func (ws *workspace[T]) ensureTile(n int) []T { return ensure(&ws.tile, n) }

// workspacePool is a free list of workspaces that, unlike sync.Pool, is
// never emptied by the garbage collector: it holds at most as many
// workspaces as products ever ran at once.
type workspacePool[T Float] struct {
	mu   sync.Mutex
	free []*workspace[T]
}

func (p *workspacePool[T]) get() *workspace[T] {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		ws := p.free[n-1]
		p.free = p.free[:n-1]
		return ws
	}
	return new(workspace[T])
}

func (p *workspacePool[T]) put(ws *workspace[T]) {
	p.mu.Lock()
	p.free = append(p.free, ws)
	p.mu.Unlock()
}
