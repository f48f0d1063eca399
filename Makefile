# The two commands of the quick start:
#   make sandbox   install into .venv and run the whole journey on embedded defaults
#   make test      install into .venv and run every test
#   make audit     pip-audit over requirements.lock; make lock refreshes the lock from pyproject.toml
#   make image-check  build the image and run the compose stack from it (root; deploy/ci-image.sh)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install sandbox test demo wsdl audit lock image-check clean

$(BIN)/lms-soap: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (spyne 2.14 does not run on 3.12+)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[sandbox,test]'
	@touch $(BIN)/lms-soap

install: $(BIN)/lms-soap

sandbox: install
	$(BIN)/lms-soap sandbox

demo: install
	$(BIN)/lms-soap demo

test: install
	$(BIN)/pytest -q

wsdl: install
	$(BIN)/lms-soap wsdl export

audit:
	bash deploy/audit-deps.sh

# The lock of the runtime dependencies (the image installs them; the audit reads them). pip-tools
# runs in its own venv; no index or find-links line goes into the lock (each machine has its own).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet 'pip-tools>=7.4,<8'
	.venv-lock/bin/pip-compile --quiet --upgrade --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --output-file requirements.lock pyproject.toml

image-check:
	bash deploy/ci-image.sh

clean:
	rm -rf $(VENV) .venv-audit .venv-lock .lms-sandbox .pytest_cache
