package simdblas

import (
	"fmt"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the products of one training step: the LSTM's input
// projection X·Wx (1600×74·74×256) and its gradients Xᵀ·δA, δA·Wxᵀ; one
// recurrent step h·Wh for the whole batch (32) and for one of two batch
// shards (16); δA·Whᵀ likewise; LMF's text LSTM (batch 64, 50 steps,
// 300 inputs, 128 units); TFN's post-fusion layer (32×140,481 times
// 140,481×64) is BenchmarkSgemmTFN.
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"X·Wx/1600x74x256", blas.NoTrans, blas.NoTrans, 1600, 256, 74},
	{"Xᵀ·dA/74x1600x256", blas.Trans, blas.NoTrans, 74, 256, 1600},
	{"dA·Wxᵀ/1600x256x74", blas.NoTrans, blas.Trans, 1600, 74, 256},
	{"h·Wh/32x64x256", blas.NoTrans, blas.NoTrans, 32, 256, 64},
	{"h·Wh/16x64x256", blas.NoTrans, blas.NoTrans, 16, 256, 64},
	{"dA·Whᵀ/32x256x64", blas.NoTrans, blas.Trans, 32, 64, 256},
	{"dA·Whᵀ/16x256x64", blas.NoTrans, blas.Trans, 16, 64, 256},
	{"Hᵀ·dA/64x1568x256", blas.Trans, blas.NoTrans, 64, 256, 1568},
	{"text X·Wx/3200x300x512", blas.NoTrans, blas.NoTrans, 3200, 512, 300},
	{"text Xᵀ·dA/300x3200x512", blas.Trans, blas.NoTrans, 300, 512, 3200},
	{"text dA·Whᵀ/64x512x128", blas.NoTrans, blas.Trans, 64, 128, 512},
	{"square/512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
}

// benchImpls are the BLASes compared; bench_openblas_test.go adds OpenBLAS.
var benchImpls = []struct {
	name string
	impl interface {
		blas.Float32
		blas.Float64
	}
}{
	{"simd", Implementation{}},
	{"gonum", gonum.Implementation{}},
}

// BenchmarkSgemm reports GFLOP/s (2mnk per product) of float32 products
// at the step's shapes for each BLAS.
func BenchmarkSgemm(b *testing.B) {
	for _, sh := range benchShapes {
		for _, im := range benchImpls {
			b.Run(fmt.Sprintf("%s/%s", sh.name, im.name), func(b *testing.B) {
				a, bb, c := benchOperands[float32](sh.tA, sh.tB, sh.m, sh.n, sh.k)
				lda, ldb := benchLd(sh.tA, sh.m, sh.k), benchLd(sh.tB, sh.k, sh.n)
				cpu0 := processCPU()
				for b.Loop() {
					im.impl.Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
				}
				reportGFLOPS(b, cpu0, sh.m, sh.n, sh.k)
			})
		}
	}
}

// BenchmarkDgemm is BenchmarkSgemm for float64.
func BenchmarkDgemm(b *testing.B) {
	for _, sh := range benchShapes {
		for _, im := range benchImpls {
			b.Run(fmt.Sprintf("%s/%s", sh.name, im.name), func(b *testing.B) {
				a, bb, c := benchOperands[float64](sh.tA, sh.tB, sh.m, sh.n, sh.k)
				lda, ldb := benchLd(sh.tA, sh.m, sh.k), benchLd(sh.tB, sh.k, sh.n)
				cpu0 := processCPU()
				for b.Loop() {
					im.impl.Dgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
				}
				reportGFLOPS(b, cpu0, sh.m, sh.n, sh.k)
			})
		}
	}
}

// BenchmarkSgemmTFN is TFN's post-fusion layer at MOSI size, forward
// (F·W) and the input gradient (δY·Wᵀ).
func BenchmarkSgemmTFN(b *testing.B) {
	const batch, fused, out = 32, 140481, 64
	for _, im := range benchImpls {
		b.Run("F·W/"+im.name, func(b *testing.B) {
			f, w, y := benchOperands[float32](blas.NoTrans, blas.NoTrans, batch, out, fused)
			cpu0 := processCPU()
			for b.Loop() {
				im.impl.Sgemm(blas.NoTrans, blas.NoTrans, batch, out, fused, 1, f, fused, w, out, 0, y, out)
			}
			reportGFLOPS(b, cpu0, batch, out, fused)
		})
		b.Run("dY·Wᵀ/"+im.name, func(b *testing.B) {
			dy, w, df := benchOperands[float32](blas.NoTrans, blas.Trans, batch, fused, out)
			cpu0 := processCPU()
			for b.Loop() {
				im.impl.Sgemm(blas.NoTrans, blas.Trans, batch, fused, out, 1, dy, out, w, out, 0, df, fused)
			}
			reportGFLOPS(b, cpu0, batch, fused, out)
		})
	}
}

// benchLd is the leading dimension of a rows×cols operand stored as t says.
func benchLd(t blas.Transpose, rows, cols int) int {
	if t == blas.Trans {
		return rows
	}
	return cols
}

func benchOperands[T Float](tA, tB blas.Transpose, m, n, k int) (a, b, c []T) {
	a, b, c = make([]T, m*k), make([]T, k*n), make([]T, m*n)
	for i := range a {
		a[i] = T(i%13) * 0.1
	}
	for i := range b {
		b[i] = T(i%7) * 0.1
	}
	return a, b, c
}

// reportGFLOPS reports GFLOP/s over wall time and over the process's CPU
// time since cpu0 (steadier on a shared machine; with -cpu 1 it is the
// throughput of one core).
func reportGFLOPS(b *testing.B, cpu0 time.Duration, m, n, k int) {
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
	b.ReportMetric(0, "ns/op")
}
