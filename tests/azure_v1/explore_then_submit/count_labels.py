"""Copied next to patients.csv and submitted by scenario.py: counts rows and labels (numpy integers from pandas),
saves a sample under ./outputs."""

import os

import pandas as pd
from runtui import Run

ctx = Run.get_context()
patients = pd.read_csv("patients.csv")
ctx.log("rows", len(patients))
print(f"counted {len(patients)} rows")
counts = patients["outcome"].value_counts()
print(counts)
for label, count in counts.items():
    ctx.log(f"label {label}", count)
os.makedirs("outputs", exist_ok=True)
patients.sample(50, random_state=1).to_csv("outputs/sample.csv", index=False)
ctx.complete()
