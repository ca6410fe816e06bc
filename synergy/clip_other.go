//go:build !amd64 || purego

package synergy

// scaleClip32Kernel is nil: scaleAndClip runs its Go loop alone.
var scaleClip32Kernel func(x *float32, n int, c, clip float64)
