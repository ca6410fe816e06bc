# Kernel, notebooks and browser check (included by the top-level Makefile).
#
#   make kernel              build the "synergo" Jupyter kernel under .kernel/ (incremental)
#   make notebooks           kernel + runner self-test + execute every notebooks/*.ipynb headless;
#                            executed notebooks and HTML exports go to results/notebooks/
#   make notebooks-selftest  prove the runner fails on a Go error and on a notebook without a plot
#   make notebooks-strip     remove outputs from notebooks/*.ipynb before committing them
#   make lab                 kernel + Jupyter's notebook server on 127.0.0.1:$(LAB_PORT) (default
#                            8888; LAB_IP to bind elsewhere) with the synergo kernel and notebooks/;
#                            prints the URL to open (notebooks/lab.sh; also `synergo notebook`)
#   make e2e                 a real browser (headless Chromium) runs the tour's first cells in
#                            Jupyter's notebook UI, and `make lab` is checked through the server's
#                            API; screenshots in results/e2e/
#
# SYNERGO_SCALE=quick|full (default quick) is passed through to the notebooks.
# Every target installs the Debian packages it needs.

NB_KERNEL_DIR ?= $(CURDIR)/.kernel
NB_OUT ?= $(CURDIR)/results/notebooks
NB_E2E_OUT ?= $(CURDIR)/results/e2e
NB_TIMEOUT ?= 900
LAB_PORT ?= 8888
LAB_IP ?= 127.0.0.1
SYNERGO_SCALE ?= quick
export SYNERGO_SCALE

# Keep all Jupyter state inside .kernel/ rather than $HOME.
NB_JUPYTER_ENV = JUPYTER_PATH=$(NB_KERNEL_DIR)/share/jupyter \
	JUPYTER_DATA_DIR=$(NB_KERNEL_DIR)/jupyter-data \
	JUPYTER_CONFIG_DIR=$(NB_KERNEL_DIR)/jupyter-config \
	JUPYTER_RUNTIME_DIR=$(NB_KERNEL_DIR)/runtime \
	JUPYTER_PLATFORM_DIRS=1 \
	SYNERGO_KERNEL_DIR=$(NB_KERNEL_DIR)

NB_APT = bash notebooks/kernel/apt-install.sh
NB_PY = /usr/bin/python3

.PHONY: kernel notebooks notebooks-deps notebooks-selftest notebooks-strip lab lab-deps e2e e2e-deps

notebooks-deps:
	$(NB_APT) jupyter-nbconvert python3-nbclient jupyter-client gcc libc6-dev

kernel: notebooks-deps
	SYNERGO_KERNEL_DIR=$(NB_KERNEL_DIR) bash notebooks/kernel/build.sh

notebooks-selftest: kernel
	$(NB_JUPYTER_ENV) $(NB_PY) notebooks/selftest.py

# Every figure the notebooks show is also written as PNG and SVG to $(NB_OUT)/figures.
notebooks: kernel notebooks-selftest
	@mkdir -p $(NB_OUT)
	$(NB_JUPYTER_ENV) SYNERGO_FIGURES=$(NB_OUT)/figures $(NB_PY) notebooks/run_notebooks.py --timeout $(NB_TIMEOUT) --out $(NB_OUT) \
		$(sort $(wildcard notebooks/*.ipynb))

notebooks-strip: notebooks-deps
	$(NB_PY) notebooks/strip_outputs.py $(sort $(wildcard notebooks/*.ipynb))

lab-deps:
	$(NB_APT) jupyter-notebook

lab:
	SYNERGO_KERNEL_DIR=$(NB_KERNEL_DIR) bash notebooks/lab.sh --port $(LAB_PORT) --ip $(LAB_IP)

e2e-deps:
	$(NB_APT) jupyter-notebook chromium chromium-driver

e2e: kernel e2e-deps
	@mkdir -p $(NB_E2E_OUT)
	$(NB_JUPYTER_ENV) SYNERGO_E2E_OUT=$(NB_E2E_OUT) $(GO) test -count=1 -tags e2e -timeout 10m -v ./notebooks/e2e/
