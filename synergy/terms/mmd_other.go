//go:build !amd64 || purego

package terms

// mmdPairsKernel is nil: mmdPairs runs its Go loop for every column.
var mmdPairsKernel func(acc, wi, coef *float64, m int, wj, dj *float64, ld, width int)
