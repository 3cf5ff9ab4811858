# Set-up and everyday commands. `make demo` and `make test` work on a fresh
# machine: they install the system libraries Qt needs (Debian/Ubuntu) and a
# virtual environment in .venv first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export LANG := C.UTF-8

.PHONY: demo run test lint system-deps clean screenshot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	@sh tools/install-system-deps

demo: system-deps $(STAMP)
	$(PY) -m vaultgui --demo

run: system-deps $(STAMP)
	$(PY) -m vaultgui

test: system-deps $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check vaultgui tests benchmarks packaging
	$(VENV)/bin/ruff format --check vaultgui tests benchmarks packaging
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Packaging: a PyInstaller one-folder app and, on Linux, a .deb in dist/.
# `package-check` installs that .deb, runs its self-test and removes it again.
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: package package-check

$(PACKAGE_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

package: system-deps $(PACKAGE_STAMP)
	@sh packaging/linux/install-build-deps
	$(PY) packaging/build.py

package-check:
	sh packaging/linux/package-check

# Benchmarks against baselines measured in the same run; writes docs/benchmarks.md.
.PHONY: bench

bench: system-deps $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run.py
