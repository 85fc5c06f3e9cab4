# Every target bootstraps .venv itself, so each works on a fresh clone with only Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck bench fuzz clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@echo "== The ExportJob seed example, end to end (a throwaway catalog in a temporary directory)"
	$(BIN)/isrender demo
	@echo
	@echo "== The modifier language: a real-world string, parsed, typed and grouped by scope"
	$(BIN)/isrender explain 'wid=500&hei=500&fmt=webp&qlt=80,1&resMode=sharp2&op_usm=1,1,6,0&rotate=90&flip=lr'
	@echo
	@echo "== Mistakes, as a user sees them (exit 2 expected)"
	@$(BIN)/isrender check 'wid=500&fmt=pjpg&qlt=85,1' || echo "   -> exit $$? (invalid input, as expected)"
	@$(BIN)/isrender check '$$veiw$$&wid=480' --macros examples/macros.toml || echo "   -> exit $$? (invalid input, as expected)"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

test: lint typecheck
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/pytest benchmarks -q --benchmark-only --benchmark-columns=min,median,mean,ops,rounds

# Bounded fuzzing of parse/expand/bind and the macro-file readers (not part of `make test`):
# atheris when it builds here (coverage-guided), else hypothesis. FUZZ_RUNS executions a target.
FUZZ_RUNS ?= 20000
fuzz: $(STAMP)
	-$(BIN)/python -m pip install --quiet atheris || echo "atheris did not build: using hypothesis"
	$(BIN)/python fuzz/run.py --runs $(FUZZ_RUNS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
