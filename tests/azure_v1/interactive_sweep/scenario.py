# A v1 user's first experiment: one interactive run per penalty, each saving its model under ./outputs and
# uploading it, then every run's metrics and details read back to find the best one, whose file is downloaded.
# %%
from runtui import Workspace

ws = Workspace.from_config()
# %%
from runtui import Experiment

experiment = Experiment(workspace=ws, name="first-sweep")
# %%
import pandas as pd
from sklearn.datasets import make_regression
from sklearn.model_selection import train_test_split

raw, label = make_regression(n_samples=260, n_features=5, noise=12.0, random_state=21)
frame = pd.DataFrame(raw, columns=[f"f{i}" for i in range(5)])
x_fit, x_eval, y_fit, y_eval = train_test_split(frame, label, test_size=0.2, random_state=8)
# %%
import math

import joblib
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error

penalties = [0.1, 0.5, 1.0, 5.0, 10.0, 50.0]
for penalty in penalties:
    run = experiment.start_logging()
    run.log("penalty", penalty)
    model = Ridge(alpha=penalty).fit(x_fit, y_fit)
    rmse = math.sqrt(mean_squared_error(y_eval, model.predict(x_eval)))
    run.log("rmse", rmse)
    model_file = f"ridge_{penalty}.pkl"
    joblib.dump(model, "outputs/" + model_file)
    run.upload_file(name=model_file, path_or_stream="outputs/" + model_file)
    run.complete()
# %%
experiment
# %%
best_id = ""
best_rmse = math.inf
for past in experiment.get_runs():
    rmse = past.get_metrics()["rmse"]
    run_id = past.get_details()["runId"]
    if rmse < best_rmse:
        best_rmse, best_id = rmse, run_id
print("best run:", best_id)
print("best rmse:", round(best_rmse, 4))
# %%
from runtui import Run

best = Run(experiment=experiment, run_id=best_id)
print(best.get_file_names())
# %%
best.download_file(name=f"ridge_{best.get_metrics()['penalty']}.pkl")
