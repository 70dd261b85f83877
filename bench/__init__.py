"""Benchmarks: named workloads through the real gRPC path to a real server process.

`python -m bench.reference` runs the reference workload, the pickup latency and the
database's raw commit rate on each backend, and prints them side by side.
"""
