"""Holds the `sitecustomize` that `runtui.compat.script_environment()` puts on a submitted script's PYTHONPATH."""
