"""The split build: the event-scale SPOTS layers on Spark, the release step on DuckDB (docs/spark.md)."""
