//go:build openblas

package nn

// The openblas build (cgo) also runs the LSTM's float32 cell math in C:
// the loops over the hidden units are vectorized by gcc (-O3, AVX2 + FMA
// through a target attribute, so the rest of the binary keeps the baseline
// ISA) and call glibc's vector expf/tanhf (libmvec, 8 lanes) instead of one
// scalar math.Exp per gate entry. The kernels run only when the CPU has AVX2
// and FMA (checked once at start); otherwise the Go loops run. The formulas
// are those of internal/lstmcell's Forward and Backward; results
// differ from the Go loops by float32 rounding (vector exp/tanh, fused
// multiply-adds), see TestLSTMCellsCMatchGo.

/*
#cgo CFLAGS: -O3 -ffast-math -fopenmp-simd
#cgo LDFLAGS: -lmvec -lm
#include <math.h>

#define SYN_TARGET __attribute__((target("avx2,fma")))

static int synergo_cpu_has_avx2_fma(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

SYN_TARGET static inline float synergo_sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// Forward cells of nrows rows at one step. Row k's gate
// pre-activations a (4H: i, f, g, o) start at gates + k·gstride and are
// replaced by the activations; h_{t−1}, c_{t−1}, tanh c̃, h_t, c_t start at
// k·hstride in their arrays; its mask value is mask[k·mstride].
SYN_TARGET static void synergo_lstm_forward_cells(long nrows, long H, float *gates, long gstride,
		const float *hPrev, const float *cPrev, long hstride,
		float *tanhC, float *hOut, float *cOut, const float *mask, long mstride) {
	for (long k = 0; k < nrows; k++) {
		float *restrict a = gates + k * gstride;
		const float *restrict hp = hPrev + k * hstride;
		const float *restrict cp = cPrev + k * hstride;
		float *restrict tc = tanhC + k * hstride;
		float *restrict ho = hOut + k * hstride;
		float *restrict co = cOut + k * hstride;
		const float m = mask[k * mstride];
#pragma omp simd
		for (long j = 0; j < H; j++) {
			float i = synergo_sigmoidf(a[j]);
			float f = synergo_sigmoidf(a[H + j]);
			float g = tanhf(a[2 * H + j]);
			float o = synergo_sigmoidf(a[3 * H + j]);
			a[j] = i;
			a[H + j] = f;
			a[2 * H + j] = g;
			a[3 * H + j] = o;
			float c = f * cp[j] + i * g;
			float th = tanhf(c);
			tc[j] = th;
			co[j] = m * c + (1.0f - m) * cp[j];
			ho[j] = m * (o * th) + (1.0f - m) * hp[j];
		}
	}
}

// Backward cells of nrows rows at one step: from the activations in
// gates and the carried δh, δc (row k at k·dstride, updated in place) plus
// the step's incoming gradients dhIn, dcIn (row k at k·istride; 0 repeats
// one row), it writes δa into dPre (laid out like gates).
SYN_TARGET static void synergo_lstm_backward_cells(long nrows, long H, const float *gates, float *dPre, long gstride,
		const float *cPrev, const float *tanhC, long hstride, const float *dhIn, const float *dcIn, long istride,
		float *dh, float *dc, long dstride, const float *mask, long mstride) {
	for (long k = 0; k < nrows; k++) {
		const float *restrict a = gates + k * gstride;
		float *restrict da = dPre + k * gstride;
		const float *restrict cp = cPrev + k * hstride;
		const float *restrict tc = tanhC + k * hstride;
		const float *restrict dhi = dhIn + k * istride;
		const float *restrict dci = dcIn + k * istride;
		float *restrict dhk = dh + k * dstride;
		float *restrict dck = dc + k * dstride;
		const float m = mask[k * mstride];
#pragma omp simd
		for (long j = 0; j < H; j++) {
			float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
			float dht = dhk[j] + dhi[j];
			float dct = dck[j] + dci[j];
			float dhn = m * dht;
			float th = tc[j];
			float dcn = m * dct + dhn * o * (1.0f - th * th);
			da[j] = dcn * g * i * (1.0f - i);
			da[H + j] = dcn * cp[j] * f * (1.0f - f);
			da[2 * H + j] = dcn * i * (1.0f - g * g);
			da[3 * H + j] = dhn * th * o * (1.0f - o);
			dck[j] = (1.0f - m) * dct + dcn * f;
			dhk[j] = (1.0f - m) * dht;
		}
	}
}
*/
import "C"

func init() {
	if C.synergo_cpu_has_avx2_fma() != 0 {
		lstmCells32 = lstmCellsC{}
	}
}

// lstmCellsC runs the cell loops of lstmKernel[float32] in C.
type lstmCellsC struct{}

func (lstmCellsC) forward(rows, hidden int, gates []float32, gstride int, hPrev, cPrev []float32, hstride int, tanhC, hOut, cOut, mask []float32, mstride int) {
	C.synergo_lstm_forward_cells(C.long(rows), C.long(hidden),
		(*C.float)(&gates[0]), C.long(gstride),
		(*C.float)(&hPrev[0]), (*C.float)(&cPrev[0]), C.long(hstride),
		(*C.float)(&tanhC[0]), (*C.float)(&hOut[0]), (*C.float)(&cOut[0]),
		(*C.float)(&mask[0]), C.long(mstride))
}

func (lstmCellsC) backward(rows, hidden int, gates, dPre []float32, gstride int, cPrev, tanhC []float32, hstride int, dhIn, dcIn []float32, istride int, dh, dc []float32, dstride int, mask []float32, mstride int) {
	C.synergo_lstm_backward_cells(C.long(rows), C.long(hidden),
		(*C.float)(&gates[0]), (*C.float)(&dPre[0]), C.long(gstride),
		(*C.float)(&cPrev[0]), (*C.float)(&tanhC[0]), C.long(hstride), (*C.float)(&dhIn[0]), (*C.float)(&dcIn[0]), C.long(istride),
		(*C.float)(&dh[0]), (*C.float)(&dc[0]), C.long(dstride),
		(*C.float)(&mask[0]), C.long(mstride))
}
