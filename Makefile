# fleetops: `make demo` sets everything up and converges the embedded lab; `make test` runs the tests.
VENV ?= .venv
FLEETOPS = $(VENV)/bin/fleetops

.PHONY: setup demo test test-fast lint down clean

setup:
	VENV=$(VENV) scripts/install-deps.sh

demo: setup
	$(FLEETOPS) lab up --spec inventory/lab.yml
	$(FLEETOPS) model convert --model digits --out models/digits -q
	$(FLEETOPS) deploy deploys/site.py --yes
	$(FLEETOPS) lab status
	$(FLEETOPS) backup run
	$(FLEETOPS) backup verify
	$(FLEETOPS) check --suite lab --html lab-report.html
	$(FLEETOPS) smoke

test: setup
	FLEETOPS_REQUIRE_LAB=1 $(VENV)/bin/python -m pytest tests

# static checks CI runs before the tests: pyflakes/pycodestyle errors/bugbear, formatting, types
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-fast: setup
	$(VENV)/bin/python -m pytest tests -m "not lab"

down:
	$(FLEETOPS) lab down

clean: down
	rm -rf $(VENV)
