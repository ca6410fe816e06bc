//go:build !unix

package gobench

import "time"

// ProcessCPUTime is unavailable on this platform and returns 0.
func ProcessCPUTime() time.Duration { return 0 }

// PeakRSSBytes is unavailable on this platform and returns 0.
func PeakRSSBytes() int64 { return 0 }
