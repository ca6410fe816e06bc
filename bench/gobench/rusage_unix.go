//go:build unix

package gobench

import (
	"syscall"
	"time"
)

// ProcessCPUTime returns the user plus system CPU time of the process (all
// threads, cgo and OpenBLAS included).
func ProcessCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSSBytes returns the process's peak resident set size (getrusage
// ru_maxrss, which Linux reports in KiB).
func PeakRSSBytes() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
