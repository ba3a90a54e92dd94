"""Realistic synthetic BPU data for the demo, the tests and the benchmarks (deterministic per seed)."""
