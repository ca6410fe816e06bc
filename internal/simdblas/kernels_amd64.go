//go:build amd64 && !purego

package simdblas

//go:generate go run asm_gen.go

import (
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// The kernel sets of this CPU: AVX2+FMA where the CPU has AVX2 and FMA,
// AVX-512 where it also has AVX512F and the OS saves the ZMM state
// (golang.org/x/sys/cpu checks XGETBV bits 5–7); nil otherwise.
var (
	avx2S, avx512S *arch[float32]
	avx2D, avx512D *arch[float64]
)

// The AVX2 kernels hold a 6×16 float32 (6×8 float64) tile of C in 12 of
// the 16 YMM registers. Blocking for 32–48 KiB of L1 and ≥ 512 KiB of L2
// per core: a kc-deep B panel (16 KiB) and A panel (6 KiB) stay in L1.
//
// The AVX-512 kernels hold a 6×64 float32 (6×32 float64) tile of C in 24
// of the 32 ZMM registers; the last panel of a column block, when it is
// narrower, runs on a 6×32 or 6×16 kernel (6×16 or 6×8) instead. Measured
// on Zen 5 at the models' shapes (one core, bench_test.go) against 12×32,
// 8×48 and 14×32 float32 tiles and a 12×16 float64 one: 6×64 was as fast
// or faster at all but the products with 74 columns, where the narrow
// kernels make up the difference.
//
// kc is the same for both sets: it fixes the summation blocks, so both give
// every element of C with the same roundings (bit-identical results); the
// tile shape, mc and nc only decide which elements a kernel call computes.
func init() {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	avx2S = &arch[float32]{
		name: "AVX2+FMA", mr: 6, nr: 16, kc: 256, mc: 96, nc: 2048,
		pMajorA: kernelS6x16, rowMajorA: kernelS6x16RowA,
		packBTrans: packTransS16, transBlock: 8, packBRows: packRowsS16, packBMinRows: packBMinRows,
	}
	avx2D = &arch[float64]{
		name: "AVX2+FMA", mr: 6, nr: 8, kc: 256, mc: 96, nc: 1024,
		pMajorA: kernelD6x8, rowMajorA: kernelD6x8RowA,
		packBTrans: packTransD8, transBlock: 4, packBRows: packRowsD8, packBMinRows: packBMinRows,
	}
	if cpu.X86.HasAVX512F {
		avx512S = &arch[float32]{
			name: "AVX-512", mr: 6, nr: 64, kc: 256, mc: 96, nc: 2048,
			pMajorA: kernelS6x64Z, rowMajorA: kernelS6x64ZRowA,
			packBTrans: packTransS64, transBlock: 8, packBRows: packRowsS64, packBMinRows: packBMinRows,
			narrow: []narrowKernel[float32]{{16, kernelS6x16Z, kernelS6x16ZRowA}, {32, kernelS6x32Z, kernelS6x32ZRowA}},
		}
		avx512D = &arch[float64]{
			name: "AVX-512", mr: 6, nr: 32, kc: 256, mc: 96, nc: 1024,
			pMajorA: kernelD6x32Z, rowMajorA: kernelD6x32ZRowA,
			packBTrans: packTransD32, transBlock: 4, packBRows: packRowsD32, packBMinRows: packBMinRows,
			narrow: []narrowKernel[float64]{{8, kernelD6x8Z, kernelD6x8ZRowA}, {16, kernelD6x16Z, kernelD6x16ZRowA}},
		}
	}
	useKernels(os.Getenv(simdEnv))
}

// simdEnv names the environment variable that picks the kernel set:
// SYNERGO_SIMD=avx2 forces the AVX2+FMA kernels on a CPU with AVX-512;
// unset, empty or any other value ("auto", "avx512") takes the widest set
// the CPU has. Results are bit-identical either way.
const simdEnv = "SYNERGO_SIMD"

// useKernels installs the kernel set that level names ("avx2"; anything
// else: the widest the CPU has) and returns the name of the set installed
// ("" when the CPU has none).
func useKernels(level string) string {
	arch32, arch64 = avx512S, avx512D
	if arch32 == nil || strings.EqualFold(strings.TrimSpace(level), "avx2") {
		arch32, arch64 = avx2S, avx2D
	}
	return Kernels()
}

// packBMinRows is arch.packBMinRows: from 32 rows of C, packed B panels ran
// 5–20 % faster at the step's products (16 rows: in place 10 % faster).
const packBMinRows = 32
