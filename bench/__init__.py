"""Benchmarks of the LMS against a bare-Spyne ceiling, and of the scoring pipeline (bench/README.md)."""
