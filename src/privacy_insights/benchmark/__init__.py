"""End-to-end build benchmark against a plain SQL floor and OpenDP used directly (docs/benchmark.md)."""
