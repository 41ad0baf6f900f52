"""Submitted by scenario.py: one string metric from inside a submitted run."""

from runtui import Run

Run.get_context().log(name="note", value="logged by a submitted script")
