// Package notebooks holds no library code: it is the home of synergo's Jupyter notebooks, their
// kernel build (kernel/), the headless runner and the browser test (e2e/). Its Go test checks
// the committed notebook files themselves, so `go test ./...` catches a notebook committed with
// outputs or for the wrong kernel without needing Python or Jupyter.
package notebooks
