// Package e2e holds the end-to-end check of the notebooks in a real browser: Debian's Jupyter
// notebook server on 127.0.0.1 and headless Chromium driven through chromedriver's W3C WebDriver
// HTTP API open notebooks/00-tour.ipynb, run its first cells through the notebook UI and wait
// for their output to appear. The test sits behind the build tag e2e and needs the kernel and
// the Debian packages jupyter-notebook, chromium and chromium-driver; run it with `make e2e`,
// which provides all of them. Screenshots of failures go to results/e2e/ (SYNERGO_E2E_OUT).
package e2e
