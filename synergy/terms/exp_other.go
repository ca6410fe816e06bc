//go:build !amd64 || purego

package terms

// expKernel is nil: expInto calls math.Exp for every entry.
var expKernel func(dst, x *float64, n int)
