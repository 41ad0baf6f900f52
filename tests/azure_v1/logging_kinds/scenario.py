# A v1 user's tour of the logging API on an interactive run: a string, numbers, a list from a generator, a value
# logged repeatedly, rows, a table, a matplotlib figure, many wide rows, an uploaded file; then the run fetched
# again by id, its metrics (all, and one by name), its files downloaded, and tags.
# %%
import math
import os
import random

from runtui import Experiment, Run, Workspace

ws = Workspace.from_config()
print("workspace:", ws.name, ws.location)
# %%
experiment = Experiment(workspace=ws, name="logging-kinds")
run = experiment.start_logging()
run_id = run.id
factor = 3
# %%
run
# %%
experiment
# %%
run.log(name="colour", value="Blue")
run.log(name="factor", value=factor)
run.log(name="answer", value=14 * factor)
# %%
squares = (n * n * factor for n in range(10))
run.log_list(name="squares", value=squares)
for step in range(-6, 6):
    run.log(name="logistic", value=1 / (1 + math.exp(-step)))
# %%
import numpy as np

table: dict[str, list[float]] = {"x": [], "tanh": []}
for step in range(12):
    x = step / 4 * factor
    run.log_row(name="wave", x=x, sin=np.sin(x))
    table["x"].append(x)
    table["tanh"].append(float(np.tanh(x)))
run.log_table(name="curve", value=table)
# %%
import matplotlib.pyplot as plt

xs = np.linspace(-2, 2, 40) * factor
plt.plot(xs, np.cos(xs), label="cos")
plt.legend()
run.log_image(name="Cosine", plot=plt)
# %%
columns = ["low", "mid", "high", "wide", "narrow", "spare"]
rng = random.Random(5)
for step in range(300):
    for name in ("precision", "recall"):
        run.log_row(name, f"a wide row of {name}", **{c: rng.randrange(0, step + 1) for c in columns})
# %%
os.makedirs("notes", exist_ok=True)
with open("notes/summary.txt", "w") as note:
    note.write("written by the logging scenario\n")
run.upload_file(name="notes/summary.txt", path_or_stream="notes/summary.txt")
# %%
run.complete()
# %%
again = Run(experiment, run_id)
again
# %%
again.get_metrics()
# %%
again.get_metrics(name="factor")
# %%
again.get_file_names()
# %%
os.makedirs("fetched", exist_ok=True)
for name in again.get_file_names():
    target = os.path.join("fetched", name.split("/")[-1])
    print(f"fetching {name} -> {target}")
    again.download_file(name, target)
# %%
again.tag("keeper")
again.tag("rank", 2)
again.get_tags()
