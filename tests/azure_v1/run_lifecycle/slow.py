"""Submitted by scenario.py to be cancelled or failed while it works (it would take a minute on its own)."""

import time

print("working", flush=True)
for _ in range(600):
    time.sleep(0.1)
print("finished on its own")
