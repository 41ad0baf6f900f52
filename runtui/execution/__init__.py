"""Running submitted scripts: the supervisor process, process trees, system sampling, snapshots, liveness.

Nothing heavy is imported here: `runtui.execution.launch` (submitting) and `runtui.execution.supervisor`
(the supervisor process) load what they need.
"""
