//go:build amd64 && !purego

package terms

import "golang.org/x/sys/cpu"

//go:noescape
func mulAddAVX2(v, coef *float64, nc int, x *float64, ldx, width int)

//go:noescape
func mulAddAVX512(v, coef *float64, nc int, x *float64, ldx, width int)

// mulAddKernel is mulAddAVX2 on CPUs with AVX2; nil elsewhere. It runs
// mulAddRows on width = 32, 16 or 4 columns: v[j] ← v[j] + (coef[t]·x[t·ldx+j])
// for t < nc in order, skipping coef[t] = ±0, with VMULPD and VADDPD (each
// rounded on its own, as gonum's MULPD and ADDPD), the running values held
// in registers.
var mulAddKernel func(v, coef *float64, nc int, x *float64, ldx, width int)

// mulAddWideKernel is mulAddAVX512 on CPUs with AVX-512F; nil elsewhere. It
// runs mulAddRows on width = 64 or 32 columns in Z registers: the same
// operations per column as mulAddKernel, twice the columns per
// instruction.
var mulAddWideKernel func(v, coef *float64, nc int, x *float64, ldx, width int)

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 {
		mulAddKernel = mulAddAVX2
	}
	if cpu.X86.HasAVX512F {
		mulAddWideKernel = mulAddAVX512
	}
}
