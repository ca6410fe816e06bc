//go:build !amd64 || purego

package simdblas

import "testing"

// eachKernels runs f once: there are no kernel sets to choose from.
func eachKernels(t *testing.T, f func(t *testing.T)) { f(t) }
