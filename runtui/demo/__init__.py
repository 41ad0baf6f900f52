"""The demo workload of `runtui demo`: real training-like scripts submitted through the SDK.

`workload.py` submits them; the other modules are the scripts themselves (run by a supervisor, not imported).
"""
