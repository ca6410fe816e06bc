// Row helpers of MFN's fused recurrence (op.go); its matrix products are
// internal/gemm's, shared with synergy/nn.

package mfnrec

// mfnFloat is the element type of MFN's fused kernels.
type mfnFloat interface{ float32 | float64 }

// mfnAddRows adds v to every one of the rows of the (rows × len(v)) matrix x.
func mfnAddRows[T mfnFloat](x []T, rows int, v []T) {
	n := len(v)
	for r := 0; r < rows; r++ {
		row := x[r*n : (r+1)*n]
		for j, vj := range v {
			row[j] += vj
		}
	}
}

// mfnColumnSums sets dst to the column sums of the (rows × len(dst)) matrix x.
func mfnColumnSums[T mfnFloat](dst, x []T, rows int) {
	n := len(dst)
	clear(dst)
	for r := 0; r < rows; r++ {
		row := x[r*n : (r+1)*n]
		for j, v := range row {
			dst[j] += v
		}
	}
}
