//go:build !amd64 || purego

package simdblas

// No assembly kernels: arch32 and arch64 stay nil and gonum's products run.

// useKernels has no kernel set to pick: it returns "".
func useKernels(string) string { return "" }
