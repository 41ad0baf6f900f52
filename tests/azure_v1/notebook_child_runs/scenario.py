# A v1 user's sweep as child runs of one interactive root run, named after their penalty, each a `with` block; the
# root run logs every penalty and error (the run history a TensorBoard export would read).
# %%
import runtui

print("runtui", runtui.VERSION)
# %%
from runtui import Experiment, Workspace

ws = Workspace.from_config()
exp = Experiment(ws, "child-sweep")
root = exp.start_logging()
# %%
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

x, y = make_regression(n_samples=200, n_features=10, noise=20.0, random_state=2)
x_fit, x_eval, y_fit, y_eval = train_test_split(x, y, test_size=0.2, random_state=0)
# %%
from tqdm import tqdm

penalties = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
for penalty in tqdm(penalties):
    with root.child_run("penalty" + str(penalty)) as child:
        model = Ridge(alpha=penalty).fit(x_fit, y_fit)
        error = mean_squared_error(y_eval, model.predict(x_eval))
        root.log("alpha", penalty)
        root.log("mse", error)
# %%
root.complete()
print("root:", root.get_status())
