package nn

// blasBackend names the BLAS that gorgonia's matrix products and the LSTM's
// GEMMs run on. The default build uses gonum's pure-Go BLAS; building with
// the tag openblas (and CGO_LDFLAGS=-lopenblas) switches both to OpenBLAS
// (see blas_openblas.go).
var blasBackend = "gonum (pure Go)"

// BLASBackend returns the name of the BLAS in use: "gonum (pure Go)" in the
// default build, "OpenBLAS (n threads, <core> kernels)" with the build tag
// openblas.
func BLASBackend() string { return blasBackend }
