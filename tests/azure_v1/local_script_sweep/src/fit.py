"""Submitted by ../scenario.py: a ridge penalty sweep on generated regression data, one model per penalty in
./outputs. It also leaves an empty marker file per penalty in its working folder, which must never reach the
submitted source folder (the run works in its own copy)."""

import os

import grid
import joblib
from runtui import Run
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

ctx = Run.get_context()
features, target = make_regression(
    n_samples=120, n_features=30, n_informative=8, noise=40.0, effective_rank=6, random_state=1
)
x_fit, x_eval, y_fit, y_eval = train_test_split(features, target, test_size=0.25, random_state=3)
os.makedirs("outputs", exist_ok=True)
for penalty in grid.penalties():
    model = Ridge(alpha=penalty).fit(x_fit, y_fit)
    error = mean_squared_error(y_eval, model.predict(x_eval))
    ctx.log("alpha", penalty)  # numpy float64, as np.arange yields
    ctx.log("mse", error)
    name = f"ridge_{penalty:.2f}.pkl"
    open(name, "wb").close()
    joblib.dump(model, os.path.join("outputs", name))
    print(f"penalty {penalty:.2f} -> mse {error:.3f}")
