//go:build amd64 && !purego

package terms

import "golang.org/x/sys/cpu"

//go:noescape
func mmdPairsAVX2(acc, wi, coef *float64, m int, wj, dj *float64, ld, width int)

// mmdPairsKernel is mmdPairsAVX2 on CPUs with AVX2; nil elsewhere. It runs
// mmdPairs on width = 16 or 4 columns of the rows of one pair sweep, the
// running sums of row i held in registers (see mmdPairs for the
// arithmetic).
var mmdPairsKernel func(acc, wi, coef *float64, m int, wj, dj *float64, ld, width int)

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 {
		mmdPairsKernel = mmdPairsAVX2
	}
}
