"""Benchmarks of the scheduler extender: `python -m benchmarks --help`. See benchmarks/README.md."""
