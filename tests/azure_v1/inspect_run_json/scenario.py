# A v1 "getting started" lab: an interactive run that explores a CSV (count, chart, distinct values, summary rows,
# an uploaded sample), its details, metrics and file names dumped as JSON (so every value must be plain JSON),
# then a submitted script over the same data and a listing of the experiment's runs.
# %%
import numpy as np
import pandas as pd

rng = np.random.default_rng(31)
size = 320
readings = pd.DataFrame(
    {
        "count": rng.integers(0, 12, size),
        "level": rng.normal(50, 10, size).round(2),
        "rate": rng.normal(1.5, 0.3, size).round(3),
    }
)
readings["label"] = (readings["level"] > 55).astype(int)
readings.to_csv("readings.csv", index=False)
# %%
import runtui

print("runtui", runtui.VERSION)
# %%
from runtui import Workspace

ws = Workspace.from_config()
print(ws.name, "loaded")
# %%
import matplotlib.pyplot as plt

from runtui import Experiment

experiment = Experiment(workspace=ws, name="getting-started")
run = experiment.start_logging()
print("started:", experiment.name)
data = pd.read_csv("readings.csv")
run.log("rows", len(data))
fig = plt.figure()
data["label"].value_counts().plot.bar(ax=fig.gca())
run.log_image(name="labels", plot=fig)
run.log_list("distinct counts", np.sort(data["count"].unique()))
for column, stats in data[["level", "rate"]].describe().to_dict().items():
    for stat, value in stats.items():
        run.log_row(column, stat=stat, value=value)
data.sample(30, random_state=4).to_csv("sample.csv", index=False)
run.upload_file(name="outputs/sample.csv", path_or_stream="./sample.csv")
run.complete()
# %%
import json

details = run.get_details()
print(details["status"], details["runId"] == run.id)
metrics = run.get_metrics()
print(json.dumps(metrics, indent=2))
files = run.get_file_names()
print(json.dumps(files, indent=2))
# %%
import os
import shutil

job_folder = "summarise-job"
os.makedirs(job_folder, exist_ok=True)
shutil.copy("readings.csv", os.path.join(job_folder, "readings.csv"))
shutil.copy("summarise.py", os.path.join(job_folder, "summarise.py"))
# %%
from runtui import ScriptRunConfig

job = experiment.submit(config=ScriptRunConfig(source_directory=job_folder, script="summarise.py"))
job.wait_for_completion()
# %%
print(json.dumps(job.get_metrics(), indent=2))
for name in job.get_file_names():
    print(name)
# %%
for past in ws.experiments["getting-started"].get_runs():
    print("run:", past.id, past.get_status())
    for name, value in past.get_metrics().items():
        print("  ", name, value)
