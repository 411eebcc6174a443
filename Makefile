# Two commands on a fresh machine (README "Quick start"):
#   make demo   install, set up, generate sample data, dbt build on the embedded DuckDB file
#   make report the reviewer's report of the built warehouse (data/report/dev/), after make demo
#   make test   every test (pytest: package, dbt end to end on DuckDB, PostgreSQL and Spark)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EVENTS ?= 100000
SEED ?= 42

.PHONY: install install-spark demo generate build report test lint lint-python benchmark utility privacy-table clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed
	$(BIN)/privacy-insights setup

# The optional extra of the split build (README "Spark"): dbt-spark and pyspark; the tests need it.
$(BIN)/.installed-spark: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[spark]"
	touch $@

install-spark: install $(BIN)/.installed-spark

generate: install
	$(BIN)/privacy-insights generate --events $(EVENTS) --seed $(SEED)

build: install
	$(BIN)/dbt build

# The closing line lists the schemas the warehouse really holds, so it cannot go stale.
demo: generate build
	@$(BIN)/python -c "from privacy_insights import targets; import duckdb; \
	path = targets.duckdb_path(); con = duckdb.connect(str(path), read_only=True); \
	schemas = con.sql('select distinct table_schema from information_schema.tables order by 1').fetchall(); \
	print(f'Results: {path} (schemas {\", \".join(s for s, in schemas)})')"

# The reviewer's report of the built warehouse (after `make demo`): budget over the window, cells by
# city, published error per metric, export activity (from the delivery audit, current without a
# rebuild); writes data/report/dev/report.md and its PNGs, never a tracked file. The committed
# example docs/report/ is rewritten only on purpose: `make report REPORT_OUTPUT=docs/report`.
REPORT_OUTPUT ?=
report: install
	$(BIN)/privacy-insights report $(if $(REPORT_OUTPUT),--output $(REPORT_OUTPUT))

# Two workers, each module's tests on one worker (module-scoped builds are shared by its tests).
test: install-spark
	$(BIN)/pytest -n 2 --dist loadscope --durations=25

# Python lint and format (ruff, [tool.ruff] in pyproject.toml): clean, and run by CI (.ci/run).
lint-python: install
	$(BIN)/ruff check src tests_py models
	$(BIN)/ruff format --check src tests_py models

# SQL lint (sqlfluff, .sqlfluff; dbt templater) as well: clean, and run by CI (.ci/run).
lint: lint-python
	$(BIN)/sqlfluff lint --processes 2 models tests analyses

# dev at 10^5, 10^6, 10^7 and postgres at 10^5, 10^6 events, with both baselines, then the
# split build on Spark at 10^3, 10^5, 10^6 (hence the spark extra): about 25 minutes on
# 2 cores; writes docs/benchmark_results.md (see docs/benchmark.md).
benchmark: install-spark
	$(BIN)/privacy-insights benchmark

# the release's coverage and error at 10^6 and 10^7 events, baseline and realistic profiles:
# about 15 minutes on 2 cores; writes docs/utility.md and its figures in docs/utility/.
utility: install
	$(BIN)/privacy-insights utility-report

privacy-table: install
	$(BIN)/privacy-insights privacy-table

clean:
	rm -rf target logs data .duckdb profiles.yml
