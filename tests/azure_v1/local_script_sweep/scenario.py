# A v1 user's "train on the local machine" notebook: submit a folder whose script imports a helper module, wait
# with the output streamed, pick the best penalty from the logged lists, plot them, list the files, register one.
# %%
import runtui

print("runtui", runtui.VERSION)
# %%
from runtui import Workspace

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\n")
# %%
from runtui import Experiment

exp = Experiment(workspace=ws, name="local-sweep")
# %%
from runtui import ScriptRunConfig

config = ScriptRunConfig(source_directory="./src", script="fit.py")
run = exp.submit(config)
run
# %%
run.wait_for_completion(show_output=True)
# %%
import numpy as np

metrics = run.get_metrics()
best = metrics["alpha"][int(np.argmin(metrics["mse"]))]
print(f"best penalty {best:.2f}, mse {min(metrics['mse']):.3f}")
# %%
import matplotlib.pyplot as plt

plt.plot(metrics["alpha"], metrics["mse"], marker="o")
plt.xlabel("penalty")
plt.ylabel("mse")
plt.savefig("sweep.png")
# %%
run.get_file_names()
# %%
model = run.register_model(model_name="sweep-best", model_path=f"./outputs/ridge_{best:.2f}.pkl")
print(f"registered {model.name} version {model.version} url {model.url}")
