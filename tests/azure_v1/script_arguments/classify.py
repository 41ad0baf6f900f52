"""Submitted by scenario.py with --kernel and --penalty: an SVM on generated three-class data; logs its arguments
and accuracy, prints a confusion matrix, saves the model as outputs/model.joblib."""

import argparse
import os

import joblib
from runtui import Run
from sklearn.datasets import make_classification
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

ctx = Run.get_context()
parser = argparse.ArgumentParser()
parser.add_argument("--kernel", type=str, default="rbf")
parser.add_argument("--penalty", type=float, default=1.0)
args = parser.parse_args()
ctx.log("Kernel type", args.kernel)
ctx.log("Penalty", args.penalty)

x, y = make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=9)
x_fit, x_eval, y_fit, y_eval = train_test_split(x, y, random_state=0)
model = SVC(kernel=args.kernel, C=args.penalty).fit(x_fit, y_fit)
accuracy = model.score(x_eval, y_eval)
print(f"held-out accuracy {accuracy:.3f}")
ctx.log("Accuracy", accuracy)
print(confusion_matrix(y_eval, model.predict(x_eval)))
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
