# A v1 user's "manage runs" notebook: an interactive run's status by hand and as a context manager, a submitted
# script, properties (set once) and tags (changeable), run queries by both, children made in a script and in the
# notebook, cancel and fail on submitted runs, and the snapshot restored.
# %%
import runtui
from runtui import Experiment, ScriptRunConfig, Workspace

print(runtui.VERSION)
ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="lifecycle")
# %%
live = exp.start_logging()
live.log(name="note", value="logged from the notebook")
print("live:", live.get_status())
# %%
live
# %%
details = live.get_details()
print("details:", details["status"], details["runId"] == live.id)
# %%
live.complete()
print("completed:", live.get_status())
# %%
with exp.start_logging() as scoped:
    scoped.log(name="note", value="logged inside with")
    print("inside with:", scoped.get_status())
print("after with:", scoped.get_status())
# %%
with open(".amlignore", "w") as ignore:
    ignore.write("/outputs\n/snapshots\n")
# %%
submitted = exp.submit(ScriptRunConfig(source_directory=".", script="greet.py"))
# Any v1 status on its way to Completed (a fast script on an idle machine may already be there).
on_the_way = {"NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"}
print("just submitted:", submitted.get_status() in on_the_way)
# %%
print("with logs:", submitted.get_details_with_logs()["runId"] == submitted.id)
# %%
submitted.wait_for_completion(show_output=True)
print("submitted:", submitted.get_status())
# %%
submitted.add_properties({"owner": "scenario"})
print(submitted.get_properties())
# %%
try:
    submitted.add_properties({"owner": "someone else"})
except Exception as exc:
    print("second value refused:", type(exc).__name__)
print(submitted.get_properties())
# %%
submitted.tag("grade", "good")
print(submitted.get_tags())
submitted.tag("grade", "better")
print(submitted.get_tags())
submitted.tag("revisit")
print(submitted.get_tags())
# %%
by_value = list(exp.get_runs(properties={"owner": "scenario"}, tags={"grade": "better"}))
by_key = list(exp.get_runs(properties={"owner": "scenario"}, tags="revisit"))
stale = list(exp.get_runs(tags={"grade": "good"}))
print("queries:", [r.id for r in by_value] == [submitted.id], [r.id for r in by_key] == [submitted.id], stale)
# %%
family = exp.submit(ScriptRunConfig(source_directory=".", script="spawn_children.py"))
family.wait_for_completion(show_output=True)
kids = list(family.get_children())
print("script children:", family.get_status(), sorted(k.get_metrics()["index"] for k in kids))
# %%
with exp.start_logging() as parent:
    for index in range(3):
        with parent.child_run() as child:
            child.log(name="index", value=index)
kids = list(parent.get_children())
print("notebook children:", sorted(k.get_metrics()["index"] for k in kids), {k.get_status() for k in kids})
# %%
slow = ScriptRunConfig(source_directory=".", script="slow.py")
doomed = exp.submit(slow)
doomed.cancel()
print("after cancel:", doomed.get_status())
# %%
failing = exp.submit(slow)
failing.fail()
print("after fail:", failing.get_status())
# %%
import zipfile

archive = failing.restore_snapshot(path="snapshots")
print("snapshot:", sorted(zipfile.ZipFile(archive).namelist()))
