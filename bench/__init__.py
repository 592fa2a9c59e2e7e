"""Benchmarks for synapsegen: run with ``python -m bench`` (``--quick`` for a smoke run)."""
