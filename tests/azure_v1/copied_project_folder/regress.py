"""Copied into a project folder and submitted by scenario.py: a lasso penalty sweep on generated data."""

import os

import joblib
import numpy as np
from runtui import Run
from sklearn.datasets import make_regression
from sklearn.linear_model import Lasso
from sklearn.metrics import mean_absolute_error

ctx = Run.get_context()
features, target = make_regression(n_samples=200, n_features=6, noise=10.0, random_state=4)
split = 150
os.makedirs("outputs", exist_ok=True)
for penalty in np.linspace(0.1, 2.0, 5):
    model = Lasso(alpha=penalty).fit(features[:split], target[:split])
    error = mean_absolute_error(target[split:], model.predict(features[split:]))
    ctx.log("penalty", penalty)
    ctx.log("mae", error)
    joblib.dump(model, f"outputs/lasso_{penalty:.3f}.pkl")
    print(f"penalty {penalty:.3f} -> mae {error:.3f}")
