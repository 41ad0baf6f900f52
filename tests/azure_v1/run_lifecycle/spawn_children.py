"""Submitted by scenario.py: four children made at once from inside the run, each logging its index."""

from runtui import Run

for index, child in enumerate(Run.get_context().create_children(count=4)):
    child.log(name="index", value=index)
    child.complete()
