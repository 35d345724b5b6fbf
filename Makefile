# Shipyard: `make demo` runs the main job on the embedded default; `make test` runs the checks.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# the official mlflow client in its own venv, for tests/api/test_mlflow_client.py
MLFLOW_CLIENT := $(VENV)/mlflow-client/.installed
# the browser tests (tests/console) drive the system Chromium through Playwright; Playwright's
# own browser download (`playwright install`) is never used
CHROMIUM := /usr/bin/chromium
# pytest runs in this many processes (pytest-xdist), each taking whole test files; 0: in one
PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PyTorch's CPU build first: a plain `torch` requirement resolves to the CUDA build and
# several GB of nvidia-* libraries, which the tests never use.
TORCH_CPU ?= torch==2.13.0+cpu

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet '$(TORCH_CPU)'
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium (Debian package) for the browser tests"; \
	  apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	else echo "$(CHROMIUM) is missing: as root, apt-get install chromium (browser tests skip)"; fi

$(MLFLOW_CLIENT): tests/fixtures/mlflow_client_env.py | $(STAMP)
	$(BIN)/python tests/fixtures/mlflow_client_env.py

demo: $(STAMP)
	$(BIN)/shipyard quickstart --serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy src/shipyard

pytest: $(STAMP) $(MLFLOW_CLIENT) | $(CHROMIUM)
	$(BIN)/pytest -q -p no:cacheprovider --durations=15 -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m compileall -q src  # job and worker processes start from bytecode
	$(BIN)/python bench/tracking.py
	$(BIN)/python bench/dataset_read.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/serving_scale.py
	$(BIN)/python bench/rollout.py
	$(BIN)/python bench/streaming.py
	$(BIN)/python bench/batch_transform.py
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/edge.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/serving_enriched.py
	$(BIN)/python bench/gated_ingest.py
	$(BIN)/python bench/dataset_write.py
	$(BIN)/python bench/validation.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/tuning.py
	$(BIN)/python bench/automl.py
	$(BIN)/python bench/executors.py
	$(BIN)/python bench/text.py
	$(BIN)/python bench/statistics_summary.py
	$(BIN)/python bench/monitor.py
	$(BIN)/python bench/scheduler.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
