//go:build !amd64 || purego

package terms

// mulAddKernel is nil: mulAddRows runs its Go loop for every column.
var mulAddKernel func(v, coef *float64, nc int, x *float64, ldx, width int)

// mulAddWideKernel is nil: mulAddRows runs mulAddKernel or its Go loop.
var mulAddWideKernel func(v, coef *float64, nc int, x *float64, ldx, width int)
