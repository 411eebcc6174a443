# Two commands on a fresh machine (README "Quick start"):
#   make demo   install, set up, generate 10^6 sample events, dbt build on the embedded DuckDB file,
#               then print what was released (privacy-insights demo-summary)
#   make test   every test (pytest: package, dbt end to end on DuckDB, PostgreSQL and Spark)
# and: make report (the reviewer's report, after make demo), make docs (the documentation site).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EVENTS ?= 1000000
SEED ?= 42

.PHONY: install install-spark install-peer install-docs docs demo generate build report test lint lint-python benchmark benchmark-history utility privacy-table clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed
	$(BIN)/privacy-insights setup

# The optional extra of the split build (docs/spark.md): dbt-spark and pyspark; the tests need it.
$(BIN)/.installed-spark: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[spark]"
	touch $@

install-spark: install $(BIN)/.installed-spark

# The optional extra of the documentation site: mkdocs and mkdocs-material, pinned (mkdocs.yml).
$(BIN)/.installed-docs: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

install-docs: $(BIN)/.installed-docs

# The optional extra of the utility report's PipelineDP column (privacy_insights.utility.peer):
# pipeline-dp (pinned) and python-dp, a few seconds; its tests (tests_py/test_utility_peer.py) need it.
$(BIN)/.installed-peer: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[peer]"
	touch $@

install-peer: install $(BIN)/.installed-peer

# The documentation site (docs/, mkdocs.yml) into site/, warnings as errors (a broken link between
# pages, a missing anchor, a page outside the nav), then the link check of README.md and docs/
# (tests_py/test_doc_links.py: no link leaves the repository, every link resolves). Run by CI.
docs: $(BIN)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
	$(BIN)/pytest -q -p no:cacheprovider tests_py/test_doc_links.py

generate: install
	$(BIN)/privacy-insights generate --events $(EVENTS) --seed $(SEED)

build: install
	$(BIN)/dbt build

# 10^6 events: enough for day cells of the larger cities to clear k (at 10^5 every day cell is
# suppressed). Ends by printing the warehouse's schemas, released cells, a few released rows and
# the ledger's epsilon per period, read from the warehouse (privacy_insights.demo_summary).
demo: generate build
	@$(BIN)/privacy-insights demo-summary

# The reviewer's report of the built warehouse (after `make demo`): budget over the window, cells by
# city, published error per metric, export activity (from the delivery audit, current without a
# rebuild); writes data/report/dev/report.md and its PNGs, never a tracked file. The committed
# example docs/report/ is rewritten only on purpose: `make report REPORT_OUTPUT=docs/report`.
REPORT_OUTPUT ?=
report: install
	$(BIN)/privacy-insights report $(if $(REPORT_OUTPUT),--output $(REPORT_OUTPUT))

# Two workers, each module's tests on one worker (module-scoped builds are shared by its tests).
test: install-spark install-peer
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
# 2 cores; writes docs/benchmark_results_builds.md (see docs/benchmark.md).
benchmark: install-spark
	$(BIN)/privacy-insights benchmark

# issue 30: what grows with data and history, dev DuckDB at HISTORY_SIZES events (full build,
# nothing new, +1 day, plain SQL floor, peak RSS; two alternating runs each), growth exponents
# and the issue's goals; SPARK_SIZES=1e6,1e7 adds the split build on Spark. On an idle machine:
# about 2 h to 2 h 30 min at the default sizes (10^8 alone 1.5 to 2 h and 50 to 60 GB of disk); writes
# docs/benchmark_results.md (see docs/benchmark.md, "History benchmark").
HISTORY_SIZES ?= 1e3,1e6,1e7,1e8
SPARK_SIZES ?=
benchmark-history: install-spark
	$(BIN)/privacy-insights benchmark --history --sizes $(HISTORY_SIZES) $(if $(SPARK_SIZES),--spark-sizes $(SPARK_SIZES))

# the release's coverage and error at 10^6 and 10^7 events, baseline and realistic profiles:
# about 15 minutes on 2 cores; writes docs/utility.md and its figures in docs/utility/. With the
# peer extra, PipelineDP on the same staged events (the report's "Against PipelineDP" section).
utility: install-peer
	$(BIN)/privacy-insights utility-report

privacy-table: install
	$(BIN)/privacy-insights privacy-table

clean:
	rm -rf target logs data .duckdb profiles.yml
