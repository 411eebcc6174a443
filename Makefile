# Two commands on a fresh machine (README "Quick start"):
#   make demo   install, set up, generate sample data, dbt build on the embedded DuckDB file
#   make test   every test (pytest: package, dbt end to end on DuckDB and PostgreSQL)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EVENTS ?= 100000
SEED ?= 42

.PHONY: install demo generate build test benchmark utility privacy-table clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed
	$(BIN)/privacy-insights setup

generate: install
	$(BIN)/privacy-insights generate --events $(EVENTS) --seed $(SEED)

build: install
	$(BIN)/dbt build

demo: generate build
	@echo "Results: data/privacy_insights.duckdb (schemas outside_buyer, ops, staging, intermediate, reference, raw)"

test: install
	$(BIN)/pytest

# dev at 10^5, 10^6, 10^7 and postgres at 10^5, 10^6 events, with both baselines: about
# 20 minutes on 2 cores; writes docs/benchmark_results.md (see docs/benchmark.md).
benchmark: install
	$(BIN)/privacy-insights benchmark

# the release's coverage and error at 10^6 and 10^7 events, baseline and realistic profiles:
# about 15 minutes on 2 cores; writes docs/utility.md and its figures in docs/utility/.
utility: install
	$(BIN)/privacy-insights utility-report

privacy-table: install
	$(BIN)/privacy-insights privacy-table

clean:
	rm -rf target logs data .duckdb profiles.yml
