package simdblas

import "gonum.org/v1/gonum/blas"

// PackedB is the k×n matrix op(B) of a product packed once, panel by panel
// exactly as a product packs it, for many products C = alpha·op(A)·op(B) +
// beta·C with the same B and different A — an LSTM's recurrent weights at
// every time step of its backward pass. A product from a PackedB (GemmPacked)
// reads its panels instead of packing B again; its micro-kernels see the
// same values in the same order, so its result is bit for bit the product
// from B (Sgemm, Dgemm and their serial forms).
//
// The panels of the column block jc and summation block pc lie at
// block(jc, pc): the panel of columns jc+jr.. at jr·kcb, as the product's
// packing buffer holds them. A PackedB is read-only once packed: products
// on several goroutines may share it.
type PackedB[T Float] struct {
	ar        *arch[T]
	k, n, kc  int   // kc: the depth of the summation blocks (blockK)
	blockSize []int // offsets of the (column block, summation block) pairs, in order
	data      []T
}

// PackB packs op(B) (k×n, op(B) = B or Bᵀ by tB, B row-major with leading
// dimension ldb) into p, reusing p's buffer, and reports whether it did: it
// does not without the assembly kernels (the products then run on B). It
// panics as Sgemm would on bad dimensions.
func PackB[T Float](p *PackedB[T], tB blas.Transpose, k, n int, b []T, ldb int) bool {
	ar := archFor[T]()
	if ar == nil {
		return false
	}
	bTrans := transposed(tB)
	rowsB, colsB := k, n
	if bTrans {
		rowsB, colsB = n, k
	}
	switch {
	case k <= 0 || n <= 0:
		panic("simdblas: PackB of an empty matrix")
	case ldb < max(1, colsB):
		panic(badLdB)
	case len(b) < (rowsB-1)*ldb+colsB:
		panic(shortB)
	}
	nr := ar.nr
	kc := blockK(k, ar.kc)
	p.ar, p.k, p.n, p.kc = ar, k, n, kc
	p.blockSize = p.blockSize[:0]
	size := 0
	for jc := 0; jc < n; jc += ar.nc {
		ncb := min(ar.nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			p.blockSize = append(p.blockSize, size)
			size += (ncb + nr - 1) / nr * nr * min(kc, k-pc)
		}
	}
	if cap(p.data) < size {
		p.data = alignedSlice[T](size)
	}
	p.data = p.data[:size]
	for jc := 0; jc < n; jc += ar.nc {
		ncb := min(ar.nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			d := p.block(jc, pc)
			for jr := 0; jr < ncb; jr += nr {
				w := min(nr, ncb-jr)
				pnr := ar.panelWidth(w)
				ar.packBPanel(d[jr*kcb:(jr+pnr)*kcb], pnr, bTrans, b, ldb, pc, kcb, jc+jr, w)
			}
		}
	}
	return true
}

// block returns the packed panels of the column block starting at column
// jc and the summation block starting at pc.
func (p *PackedB[T]) block(jc, pc int) []T {
	blocksK := (p.k + p.kc - 1) / p.kc
	return p.data[p.blockSize[jc/p.ar.nc*blocksK+pc/p.kc]:]
}

// GemmPackedSerial computes C = alpha·op(A)·op(B) + beta·C on the calling
// goroutine with op(B) packed in p (PackB): op(A) is m×p's k, C m×p's n. It
// panics as Sgemm would on bad arguments, or if p was not packed.
func GemmPackedSerial[T Float](tA blas.Transpose, m int, alpha T, a []T, lda int, p *PackedB[T], beta T, c []T, ldc int) {
	if p.ar == nil {
		panic("simdblas: GemmPackedSerial with an unpacked PackedB")
	}
	n, k := p.n, p.k
	// op(B) is checked by PackB; its packed panels stand in for it here.
	if !checkGemm(tA, blas.NoTrans, m, n, k, a, lda, p.data, n, c, ldc, m) {
		return
	}
	if alpha == 0 {
		for i := 0; i < m; i++ {
			scaleRow(c[i*ldc:i*ldc+n], beta)
		}
		return
	}
	multiplyAdds.Add(int64(m) * int64(n) * int64(k))
	p.ar.runPacked(true, transposed(tA), false, m, n, k, alpha, a, lda, nil, 0, beta, c, ldc, nil, p)
}
