# A v1 user's "train on a cluster" notebook run locally: the training script copied into a project folder, that
# folder submitted with `config=`, the run waited on with its output shown, and its metrics read back.
# %%
import runtui

print("runtui", runtui.VERSION)
# %%
from runtui import Workspace

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\n")
# %%
from runtui import Experiment

experiment = Experiment(workspace=ws, name="project-folder")
# %%
import os
import shutil

project_folder = "./project"
os.makedirs(project_folder, exist_ok=True)
shutil.copy("regress.py", project_folder)
# %%
from runtui import ScriptRunConfig

config = ScriptRunConfig(source_directory=project_folder, script="regress.py")
run = experiment.submit(config=config)
run
# %%
run.wait_for_completion(show_output=True)
# %%
run.get_metrics()
