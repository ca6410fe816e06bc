//go:build !amd64 || purego

package lstmcell

// No vector loop: the float32 backward cell runs the Go loop.
var backwardKernel func(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn *float32, n, stride int, m float32)
