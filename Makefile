# The everyday commands. `make run` serves the product; `make test` runs the whole suite.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PORT ?= 8501
export TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist workers of `make test`, each running whole files (0: serially, in this process)
TEST_WORKERS ?= 2

.PHONY: uv install run test lint format typecheck api demo-api stack audit

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

# --compile-bytecode: every process (a flow run, a worker, the app) imports the libraries from
# .pyc instead of compiling them from source each time, as a PYTHONDONTWRITEBYTECODE machine
# (ours) would otherwise do: a train-models flow run took ~25 s to start instead of ~8 s. The
# Docker image does the same (UV_COMPILE_BYTECODE=1).
install: uv
	$(UV) sync --frozen --compile-bytecode

# `make run` installs without compiling: compiling every library takes ~33 s, and the app's one
# process imports a few of them (bench/first_run.py: first prediction 57 s instead of 71 s).
run: uv
	$(UV) sync --frozen
	$(UV) run faceit-ai run --port $(PORT)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

typecheck: install
	$(UV) run mypy

test: lint
	$(UV) run pytest -n $(TEST_WORKERS) --dist loadfile

api: install
	$(UV) run faceit-ai api

demo-api: install
	$(UV) run faceit-ai demo-api

stack: install
	$(UV) run faceit-ai stack

audit: install
	$(UV) run python .ci/audit.py
