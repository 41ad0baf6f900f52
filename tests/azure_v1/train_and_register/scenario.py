# A v1 course lab: a training script in its own folder with its data, submitted, its metrics and files listed,
# its model registered with tags and properties taken from the metrics; then the same with a script argument,
# registered again as a new version, and every registered model listed.
# %%
import numpy as np
import pandas as pd

rng = np.random.default_rng(23)
size = 360
patients = pd.DataFrame(
    {
        "visits": rng.integers(0, 9, size),
        "glucose": rng.normal(110, 25, size).round(1),
        "pressure": rng.normal(75, 12, size).round(1),
        "bmi": rng.normal(29, 6, size).round(2),
        "age": rng.integers(21, 80, size),
    }
)
patients["outcome"] = (patients["glucose"] + 2 * patients["bmi"] + rng.normal(0, 15, size) > 185).astype(int)
patients.to_csv("patients.csv", index=False)
# %%
import runtui
from runtui import Workspace

ws = Workspace.from_config()
print(f"runtui {runtui.VERSION}, workspace {ws.name}")
# %%
import os
import shutil


def job_folder(name: str) -> str:
    os.makedirs(name, exist_ok=True)
    for file in ("patients.csv", "train_logistic.py"):
        shutil.copy(file, os.path.join(name, file))
    return name


from runtui import Experiment, ScriptRunConfig

experiment = Experiment(workspace=ws, name="train-logistic")
run = experiment.submit(config=ScriptRunConfig(source_directory=job_folder("plain"), script="train_logistic.py"))
run.wait_for_completion()
# %%
for name, value in run.get_metrics().items():
    print(name, value)
for name in run.get_file_names():
    print(name)
# %%
from runtui import Model, Run


def register_and_list(run: Run, context: str) -> None:
    metrics = run.get_metrics()
    run.register_model(
        model_path="outputs/model.pkl",
        model_name="logistic",
        tags={"Training context": context},
        properties={"AUC": metrics["AUC"], "Accuracy": metrics["Accuracy"]},
    )
    for model in Model.list(ws):
        print(model.name, "version:", model.version)
        for key, value in model.tags.items():
            print("  tag", key, "=", value)
        for key, value in model.properties.items():
            print("  property", key, "=", value)


register_and_list(run, "Script")
# %%
run = experiment.submit(
    config=ScriptRunConfig(
        source_directory=job_folder("with-argument"), script="train_logistic.py", arguments=["--reg-rate", 0.1]
    )
)
run.wait_for_completion()
# %%
for name, value in run.get_metrics().items():
    print(name, value)
for name in run.get_file_names():
    print(name)
# %%
register_and_list(run, "Script with an argument")
