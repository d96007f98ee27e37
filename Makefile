# sealtail — `make run` (demo) and `make test` (whole suite) work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TRAIN_STAMP := $(VENV)/.train-stamp

.PHONY: install run test lint proto bench soak soak-rotation eval train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "sealtail needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The [train] extra (torch CPU, sentencepiece, gguf): `make test` retrains a tiny model on a CSV.
$(TRAIN_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,train]'
	touch $(TRAIN_STAMP)

run: install
	$(BIN)/python scripts/demo.py

test: install $(TRAIN_STAMP)
	scripts/install_test_deps.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check agent tests scripts
	$(BIN)/mypy agent

proto: install
	$(BIN)/python scripts/gen_proto.py

bench: install
	$(BIN)/python scripts/bench_e2e.py
	$(BIN)/python scripts/bench_classify.py
	$(BIN)/python scripts/bench_tail_scan.py

# Classifier quality on ../shared/data (read in place; evaluation only, never training data).
eval: install
	$(BIN)/python scripts/eval_classify.py

# Retrain the shipped model (agent/classify/model/); needs the [train] extra (torch CPU build).
train: install $(TRAIN_STAMP)
	$(BIN)/python -m agent.classify.training

soak-rotation: install
	$(BIN)/python scripts/soak_rotation.py $(SOAK_ARGS)

# Not part of `make test`: SOAK_ARGS="--duration 600 --rate 2000" (see scripts/soak.py).
soak: install
	$(BIN)/python scripts/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
