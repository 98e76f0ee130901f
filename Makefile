# Two commands do all the set-up on a fresh machine with only Python 3.11+ and pip:
#   make demo   installs everything, then runs the demo against the embedded sandbox
#   make test   installs everything, then runs lint, type check and all tests (what CI runs)
# and one for the inner loop:
#   make test-fast   the tests that need no Prefect server and start no process (under a minute, two workers)
# The environment is locked (uv.lock) and rebuilt from it exactly (uv sync --frozen).

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen

.PHONY: install bytecode demo test test-fast lint typecheck pytest bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Bytecode compiled once at install: where PYTHONDONTWRITEBYTECODE is set (as on this project's
# machines), every process would otherwise compile Prefect and its dependencies from source again
# (about a second each; the tests start dozens of processes).
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --all-groups --compile-bytecode
	touch $@

install: $(VENV)/.synced

# The project's own bytecode, for the same reason: the tests start each cycle as its own process, and
# every one of them would compile the project's modules again (~0.2 s of CPU each). Only what changed
# since the last run is compiled (well under a second on a fresh clone).
bytecode: install
	$(RUN) python -m compileall -q enkash_ar ar_sync flows tasks blocks cli sandbox bench tests

demo: bytecode
	$(RUN) enkash-ar demo

lint: install
	$(RUN) ruff check --no-cache .
	$(RUN) ruff format --no-cache --check .

typecheck: install
	$(RUN) mypy

# Two workers, one per core: the end-to-end tests spend much of their time waiting on processes and
# HTTP, and each worker has its own sandbox and Prefect server.
pytest: bytecode
	$(RUN) pytest -n 2 --dist worksteal

test-fast: bytecode
	$(RUN) pytest -m "not e2e" -q -n 2

# The type check (one process, ~18 s on a fresh clone) runs beside the tests instead of before them:
# the tests' first minutes are mostly waiting on processes and HTTP. Either failing fails the target.
test: lint
	$(MAKE) --no-print-directory -j2 typecheck pytest

bench: bytecode
	$(RUN) python -m bench.run_all

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache
