"""Benchmarks behind `scout bench NAME`: each module with a `register` function adds one."""
