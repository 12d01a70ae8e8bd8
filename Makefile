# Everything a newcomer needs: `make grade` and `make test`. Python 3.11 and make suffice;
# the first run creates .venv and installs the grader into it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Reinstalls only when the package metadata changes.
STAMP := $(VENV)/.installed
DEMO_EXERCISES := --exercise race_counter --exercise transfer_deadlock --exercise parallel_histogram

.PHONY: all venv grade report test lint typecheck test-pythons bench check browser sandbox-tools clean distclean bundle site mutants

all: test

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

# Grade the bundled demo class (see demo/README.md) into reports/; or your own folder or
# .zip, on every exercise: `make grade SUBMISSION=path/to/alice` (REPORTS=dir to move the output).
SUBMISSION ?= demo/class
REPORTS ?= reports
grade: $(STAMP)
	$(PY) -m grader grade $(SUBMISSION) --out $(REPORTS) $(if $(filter demo/class,$(SUBMISSION)),$(DEMO_EXERCISES))

# Rebuild every page and export in $(REPORTS)/ from its gradebook.sqlite, without grading.
report: $(STAMP)
	$(PY) -m grader report --out $(REPORTS)

# What students download: dist/student-bundle/ and dist/student-bundle.zip, checked for leaks.
bundle: $(STAMP)
	$(PY) -m grader bundle dist/student-bundle

# The statements as a static site: dist/site/index.html.
site: $(STAMP)
	$(PY) -m grader site dist/site

# The report screenshot test needs Chromium: installed here when possible, skipped otherwise.
test: $(STAMP) browser sandbox-tools lint typecheck
	$(PY) -m pytest

# ruff on grader/ with the rules of pyproject.toml ([tool.ruff.lint]): a few seconds.
lint: $(STAMP)
	$(PY) -m ruff check grader

# mypy on grader/ with the settings of pyproject.toml ([tool.mypy]): under a minute.
typecheck: $(STAMP)
	$(PY) -m mypy

check: $(STAMP)
	$(PY) -m grader check

# The engine tests and the grades of references and stubs on every tested Python: the
# host's, and Debian's python3.13 and python3.14 in chroots built once (needs root).
test-pythons: $(STAMP)
	$(PY) tools/pythons.py

# Tests of the tests: the mutants of every reference solution (grader/mutate.py), graded
# through the real path; prints the kill rate per exercise and writes every message a
# student can get to $(REPORTS)/mutants.md. TIMING=1 adds the exercises that measure
# speedups (graded one at a time); JOBS=n mutants at once.
JOBS ?= 2
mutants: $(STAMP)
	$(PY) -m grader.mutants --jobs $(JOBS) --hand-written --report $(REPORTS)/mutants.md $(if $(TIMING),--timing) --check

bench: $(STAMP)
	@if [ -f bench/run.py ]; then $(PY) bench/run.py; \
	elif [ -f bench/__main__.py ]; then $(PY) -m bench; \
	else echo "no benchmarks: bench/run.py does not exist"; fi

# Best effort, never fails: Debian's chromium when running as root with apt-get.
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then \
		echo "chromium: present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: installing Debian's package for the report screenshot test"; \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		 apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium: could not be installed; the screenshot test will be skipped"; \
	else \
		echo "chromium: absent and not installable here (needs root and apt-get);" \
		     "the screenshot test will be skipped"; \
	fi

# Best effort, never fails: Debian's bubblewrap, which the grader uses to isolate test
# processes (namespaces, read-only system, repository hidden); without it, or where it
# cannot work (no user namespaces in some containers), grading runs in plain mode.
sandbox-tools:
	@if command -v bwrap >/dev/null 2>&1; then \
		echo "bubblewrap: present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "bubblewrap: installing Debian's package to isolate the test processes"; \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		 apt-get install -y -qq bubblewrap >/dev/null) \
		|| echo "bubblewrap: could not be installed; grading runs in plain mode"; \
	else \
		echo "bubblewrap: absent and not installable here (needs root and apt-get);" \
		     "grading runs in plain mode"; \
	fi

clean:
	rm -rf reports tests/artifacts .pytest_cache build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
