# anarepo: `make serve` runs the server on an embedded database, `make test` runs every test.
# Both set up what they need on a fresh machine: the virtualenv, Python packages
# and (for tests) the Debian packages listed in scripts/system-packages.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.anarepo-installed
INI ?= development.ini
# test processes: most tests wait on servers and clients they start, so two workers on
# two cores halve the wall time; a file's tests stay on one worker (module fixtures)
PYTEST_WORKERS ?= 2

.PHONY: serve test system-deps bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/anarepo -c $(INI) init
	PYTHONWARNINGS="ignore:pkg_resources is deprecated" $(BIN)/pserve $(INI)

system-deps:
	scripts/install-system-packages.sh scripts/system-packages.txt

test: $(STAMP) system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
