//go:build !unix

package synergy

import "time"

// processCPUTime is unavailable here; benchmarks report 0 CPU time.
func processCPUTime() time.Duration { return 0 }
