package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// rowsOf copies the r×c matrix m into a row-major slice and reports the
// first non-finite entry as an error naming the argument name.
func rowsOf(name string, m mat.Matrix) (data []float64, r, c int, err error) {
	if m == nil {
		return nil, 0, 0, fmt.Errorf("estimate: %s is nil, want a matrix with one sample per row", name)
	}
	r, c = m.Dims()
	if r == 0 || c == 0 {
		return nil, r, c, fmt.Errorf("estimate: %s is empty (%d×%d), want at least one row and one column", name, r, c)
	}
	data = make([]float64, r*c)
	for i := 0; i < r; i++ {
		row := data[i*c : (i+1)*c]
		for j := range row {
			v := m.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, r, c, fmt.Errorf("estimate: %s[%d,%d] = %v, want a finite value", name, i, j, v)
			}
			row[j] = v
		}
	}
	return data, r, c, nil
}

// centerRows subtracts the column means from the r×c row-major data in place.
func centerRows(data []float64, r, c int) {
	mean := make([]float64, c)
	for i := 0; i < r; i++ {
		row := data[i*c : (i+1)*c]
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(r)
	}
	for i := 0; i < r; i++ {
		row := data[i*c : (i+1)*c]
		for j := range row {
			row[j] -= mean[j]
		}
	}
}

// clipRows scales every row whose Euclidean norm exceeds maxNorm down to norm
// maxNorm, keeping its direction: d ← d·min(1, maxNorm/‖d‖). maxNorm ≤ 0
// disables clipping.
func clipRows(data []float64, r, c int, maxNorm float64) {
	if maxNorm <= 0 {
		return
	}
	for i := 0; i < r; i++ {
		row := data[i*c : (i+1)*c]
		var ss float64
		for _, v := range row {
			ss += v * v
		}
		norm := math.Sqrt(ss)
		if norm > maxNorm {
			s := maxNorm / norm
			for j := range row {
				row[j] *= s
			}
		}
	}
}

// scatter returns (1/r) Σ_i d_i d_iᵀ for the r×c row-major data.
func scatter(data []float64, r, c int) *mat.SymDense {
	d := mat.NewDense(r, c, data)
	s := mat.NewSymDense(c, nil)
	s.SymRankK(s, 1/float64(r), d.T())
	return s
}
