from __future__ import annotations

import time

from runtui.status import RunStatus
from runtui.store import NewRun, Store


def test_create_and_read_back(store: Store) -> None:
    [rec] = store.create_runs([NewRun(id="r1", experiment="exp", status=RunStatus.RUNNING, tags=(("k", "v"),))])
    assert store.get_run("r1") == rec
    assert store.get_tags(["r1"]) == {"r1": {"k": "v"}}
    store.write_metrics([("r1", "loss", None, 1.0, None, "scalar", time.time())])
    assert store.get_summaries(["r1"])["r1"][0].last == 1.0
