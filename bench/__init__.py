"""runtui's benchmark suite: `python -m bench` measures every target of the performance table side by side
with raw sqlite3 (the physical limit) and MLflow (when installed), prints the table and writes
`bench/results/latest.json`. Benchmarks measure; they never assert.
"""
