"""Benchmarks: run on demand against a large generated data set; they print figures as JSON."""
