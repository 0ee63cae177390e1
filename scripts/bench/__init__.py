"""Benchmarks: run each as `python -m scripts.bench.<name>`; results go to docs/BENCHMARKS.md."""
