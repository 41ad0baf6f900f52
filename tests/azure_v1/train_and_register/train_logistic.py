"""Copied next to patients.csv and submitted by scenario.py, with and without --reg-rate: a logistic regression
whose rate, accuracy and AUC are logged (numpy floats as the computations give them), the model saved as
outputs/model.pkl."""

import argparse
import os

import joblib
import numpy as np
import pandas as pd
from runtui import Run
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

ctx = Run.get_context()
parser = argparse.ArgumentParser()
parser.add_argument("--reg-rate", type=float, dest="rate", default=0.01)
rate = parser.parse_args().rate

patients = pd.read_csv("patients.csv")
features = patients[["visits", "glucose", "pressure", "bmi", "age"]].values
labels = patients["outcome"].values
x_fit, x_eval, y_fit, y_eval = train_test_split(features, labels, test_size=0.3, random_state=0)
print("regularisation rate", rate)
ctx.log("Regularization Rate", rate)
model = LogisticRegression(C=1 / rate, solver="liblinear").fit(x_fit, y_fit)
accuracy = np.average(model.predict(x_eval) == y_eval)
print("accuracy", accuracy)
ctx.log("Accuracy", accuracy)
auc = roc_auc_score(y_eval, model.predict_proba(x_eval)[:, 1])
print("AUC", auc)
ctx.log("AUC", auc)
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.pkl")
ctx.complete()
