"""Builds a real MLflow tracking store with MLflow itself: two experiments (one with a name runtui cannot keep as
is), nested runs, every status, params, tags, 10,000+ metric points (NaN and inf included), artifacts, a deleted
run. Used by the import tests against MLflow's SQLite store and its file store."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

POINTS_PER_KEY = 4000  # 2 keys on the big run: with the other runs' points, over 10,000 in all
BASE_MS = 1_700_000_000_000


def build(uri: str, tmp: Path) -> dict[str, Any]:
    """Fill the empty store at `uri`; returns the MLflow run ids by role."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    # Artifacts under tmp (MLflow's default for a database store is ./mlruns in the current folder).
    where = (tmp / "mlartifacts").as_uri()
    vision = client.create_experiment("vision/resnet 50", artifact_location=f"{where}/1", tags={"area": "cv"})
    nlp = client.create_experiment("nlp", artifact_location=f"{where}/2")
    ids: dict[str, Any] = {}

    parent = client.create_run(vision, run_name="sweep", start_time=BASE_MS)
    ids["parent"] = parent.info.run_id
    client.log_batch(
        parent.info.run_id,
        params=[Param("search", "grid"), Param("long", "x" * 5000)],
        tags=[RunTag("team", "vision"), RunTag("empty", ""), RunTag("mlflow.note.content", "a grid over lr")],
    )
    children = []
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        child = client.create_run(
            vision, run_name=f"lr={lr}", start_time=BASE_MS + 1000 * (i + 1),
            tags={"mlflow.parentRunId": parent.info.run_id},
        )  # fmt: skip
        rid = child.info.run_id
        children.append(rid)
        client.log_batch(rid, params=[Param("lr", str(lr)), Param("layers", "50")])
        if i == 0:  # the big one: two long series
            for key in ("loss", "acc"):
                for start in range(0, POINTS_PER_KEY, 1000):
                    batch = [
                        Metric(key, 1.0 / (s + 1) if key == "loss" else s / POINTS_PER_KEY, BASE_MS + 10 * s, s)
                        for s in range(start, min(start + 1000, POINTS_PER_KEY))
                    ]
                    client.log_batch(rid, metrics=batch)
        else:
            client.log_batch(rid, metrics=[Metric("loss", 0.5 * k, BASE_MS + k, k) for k in range(1000)])
        # same step twice (MLflow allows it), NaN and inf, a metric name with a slash
        client.log_batch(
            rid,
            metrics=[
                Metric("val/loss", 0.3, BASE_MS + 5, 1),
                Metric("val/loss", 0.2, BASE_MS + 6, 1),
                Metric("val/loss", math.nan, BASE_MS + 7, 2),
                Metric("val/loss", math.inf, BASE_MS + 8, 3),
            ],
        )
        status = ("FINISHED", "FAILED", "KILLED")[i]
        client.set_terminated(rid, status, end_time=BASE_MS + 100_000 + i)
    ids["children"] = children

    art = tmp / "artifacts"
    (art / "model").mkdir(parents=True, exist_ok=True)
    (art / "model" / "MLmodel").write_text("flavor: test\n")
    (art / "weights.bin").write_bytes(bytes(range(256)) * 40)
    client.log_artifacts(children[0], str(art))
    client.set_terminated(parent.info.run_id, "FINISHED", end_time=BASE_MS + 200_000)

    live = client.create_run(nlp, run_name="still going", start_time=BASE_MS + 50)
    ids["live"] = live.info.run_id
    client.log_batch(live.info.run_id, metrics=[Metric("loss", 2.0 - k / 500, BASE_MS + 50 + k, k) for k in range(500)])
    gone = client.create_run(nlp, run_name="deleted")
    client.delete_run(gone.info.run_id)
    ids["deleted"] = gone.info.run_id
    return ids


def grow(uri: str, ids: dict[str, Any]) -> None:
    """What happens in MLflow between two imports: the live run logs more, gets a tag, and ends."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    rid = ids["live"]
    client.log_batch(rid, metrics=[Metric("loss", 1.0 - k / 1000, BASE_MS + 600 + k, 500 + k) for k in range(100)])
    client.log_batch(rid, metrics=[Metric("bleu", 0.25, BASE_MS + 900, 599)])
    client.set_tag(rid, "stage", "done")
    client.log_param(rid, "late_param", "1")
    client.set_terminated(rid, "FINISHED", end_time=BASE_MS + 300_000)
