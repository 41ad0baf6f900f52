# A v1 course lab: explore a CSV in an interactive run (row count, a bar chart, distinct values, per-column summary
# rows, a sample uploaded), read the run back and download its outputs and logs, then run the same kind of work as
# a submitted script in a folder of its own and list every run of the experiment with its metrics.
# %%
import numpy as np
import pandas as pd

rng = np.random.default_rng(17)
size = 400
patients = pd.DataFrame(
    {
        "visits": rng.integers(0, 9, size),
        "glucose": rng.normal(110, 25, size).round(1),
        "pressure": rng.normal(75, 12, size).round(1),
        "bmi": rng.normal(29, 6, size).round(2),
        "age": rng.integers(21, 80, size),
    }
)
patients["outcome"] = (patients["glucose"] + rng.normal(0, 20, size) > 125).astype(int)
patients.to_csv("patients.csv", index=False)
# %%
import runtui
from runtui import Workspace

ws = Workspace.from_config()
print(f"runtui {runtui.VERSION}, workspace {ws.name}")
# %%
import matplotlib.pyplot as plt

from runtui import Experiment

experiment = Experiment(workspace=ws, name="explore-patients")
run = experiment.start_logging()
print("started:", experiment.name)
data = pd.read_csv("patients.csv")
run.log("rows", len(data))
print(f"exploring {len(data)} rows")
fig = plt.figure(figsize=(4, 4))
data["outcome"].value_counts().plot.bar(ax=fig.gca())
run.log_image(name="outcomes", plot=fig)
run.log_list("visit counts", data.visits.unique())
summary = data[["glucose", "pressure", "bmi"]].describe().to_dict()
for column, stats in summary.items():
    for stat, value in stats.items():
        run.log_row(column, stat=stat, value=value)
data.sample(60, random_state=2).to_csv("sample.csv", index=False)
run.upload_file(name="outputs/sample.csv", path_or_stream="./sample.csv")
run.complete()
# %%
for name, value in run.get_metrics().items():
    print(name, "=", value)
for name in run.get_file_names():
    print(name)
# %%
import os

run.download_files(prefix="outputs", output_directory="downloaded")
for folder, _, names in os.walk("downloaded"):
    for name in names:
        print("downloaded:", os.path.join(folder, name))
# %%
run.get_details_with_logs()
# %%
import shutil

script_folder = "count-job"
os.makedirs(script_folder, exist_ok=True)
shutil.copy("patients.csv", os.path.join(script_folder, "patients.csv"))
shutil.copy("count_labels.py", os.path.join(script_folder, "count_labels.py"))
# %%
from runtui import ScriptRunConfig

job = experiment.submit(config=ScriptRunConfig(source_directory="./" + script_folder, script="count_labels.py"))
job.wait_for_completion()
# %%
for name, value in job.get_metrics().items():
    print(name, "=", value)
for name in job.get_file_names():
    print(name)
# %%
job.get_details_with_logs()
# %%
logs = job.get_all_logs(destination="job-logs")
print("logs:", len(logs) > 0 and all(os.path.isfile(p) for p in logs))
# %%
for past in ws.experiments["explore-patients"].get_runs():
    print("run:", past.id)
    for name, value in past.get_metrics().items():
        print("  ", name, value)
