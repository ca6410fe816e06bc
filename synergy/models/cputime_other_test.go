//go:build !unix

package models

import "time"

// processCPUTime is not measured on this platform; the benchmarks then
// report 0 cpu-ms/op.
func processCPUTime() time.Duration { return 0 }
