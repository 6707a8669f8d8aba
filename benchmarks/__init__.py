"""Benchmarks: they print numbers; nothing here asserts a time."""
