//go:build !unix

package cputime

import "time"

// Process is unavailable here: it returns 0, and benchmarks report 0 CPU
// time.
func Process() time.Duration { return 0 }
