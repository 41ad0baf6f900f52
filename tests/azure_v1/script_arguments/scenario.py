# A v1 user's framework sample: a training script copied into a project folder and submitted with command-line
# arguments (a string and a float), then waited on with its output shown.
# %%
import runtui

print("runtui", runtui.VERSION)
# %%
from runtui import Workspace

ws = Workspace.from_config()
print("workspace:", ws.name, ws.location, ws.subscription_id, ws.resource_group)
# %%
import os
import shutil

project_folder = "./svm-project"
os.makedirs(project_folder, exist_ok=True)
shutil.copy("classify.py", project_folder)
# %%
from runtui import Experiment

experiment = Experiment(ws, name="svm_args")
# %%
from runtui import ScriptRunConfig

config = ScriptRunConfig(
    source_directory=project_folder, script="classify.py", arguments=["--kernel", "linear", "--penalty", 0.5]
)
# %%
run = experiment.submit(config)
# %%
run.wait_for_completion(show_output=True)
# %%
print(run.get_details()["runDefinition"]["arguments"])
print(run.get_metrics())
print(run.get_file_names())
