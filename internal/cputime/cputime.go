// Package cputime reads the CPU time of the process, which benchmarks
// report beside wall time: on a shared machine it is the steadier measure
// of work done.
package cputime
