// Package e2e holds the end-to-end checks of the notebooks, behind the build tag e2e; run them
// with `make e2e`, which builds the kernel and installs the Debian packages they need
// (jupyter-notebook, chromium, chromium-driver).
//
//   - TestTourRunsInBrowser: Debian's Jupyter notebook server on 127.0.0.1 and headless Chromium,
//     driven through chromedriver's W3C WebDriver HTTP API, open notebooks/00-tour.ipynb, run its
//     first cells with the toolbar's Run button and wait for their output; save screenshots of
//     the page and of the tour's first figure; run the live training of section 5 and read its
//     per-epoch progress while it runs, stop it with the toolbar's interrupt button (the kernel
//     must survive with its variables), run it again (it must resume and finish) and show a
//     figure of the trained study.
//   - TestTableNotebookInBrowser: 02-modality-dropout.ipynb up to the paper's table, our
//     side-by-side table and our first figure.
//   - TestMakeLabServesTheSynergoKernel: `make lab` on a free port prints a URL whose server
//     (REST API, with the printed token) serves the notebooks folder, lists the synergo kernel
//     and starts it.
//
// The helpers (notebookPage: openNotebook, runCell, output, waitText, interrupt, screenshot,
// screenshotImage, appendCell) are meant for further browser checks. Screenshots and the logs
// of the server and chromedriver go to results/e2e/ (SYNERGO_E2E_OUT); failure.png shows the
// page of a failed test.
package e2e
