# The two commands of the quick start:
#   make sandbox   install into .venv and run the whole journey on embedded defaults
#   make test      install into .venv and run every test
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install sandbox test demo wsdl clean

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

clean:
	rm -rf $(VENV) .lms-sandbox .pytest_cache
