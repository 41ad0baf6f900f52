"""The CLI on each store kind (SQLite always; PostgreSQL when RUNTUI_TEST_POSTGRES_URL is set) via `--store URL`:
the bulk listing reads, the headline metric choice and writes go through the same code on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, make_runs, runtui

pytestmark = pytest.mark.timeout(180)


def test_list_show_tag_fail_on_each_store(store_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    ids = make_runs(
        home,
        [
            {"experiment": "a", "name": "one", "metrics": {"sys/cpu": [1.0], "loss": [0.5, 0.25], "acc": [0.9]}},
            {"experiment": "a", "metrics": {"acc": [0.75]}, "tags": {"k": "v"}},
            {"experiment": "b", "status": "Failed", "error": "bad"},
        ],
        store_url=store_url,
    )
    rows = runtui("--store", store_url, "ls", "--json", home=home).json_lines()
    assert [r["runId"] for r in rows] == list(reversed(ids))
    by_id = {r["runId"]: r for r in rows}
    assert by_id[ids[0]]["headlineMetric"] == {"name": "loss", "value": 0.25}
    assert by_id[ids[1]]["headlineMetric"] == {"name": "acc", "value": 0.75}
    assert by_id[ids[2]]["headlineMetric"] is None
    assert by_id[ids[1]]["tags"] == {"k": "v"}

    filtered = runtui("--store", store_url, "ls", "--json", "exp:a metric:acc>0.8", home=home).json_lines()
    assert [r["runId"] for r in filtered] == [ids[0]]
    assert_one_line_error(runtui("--store", store_url, "ls", "metric:acc>", home=home), 2, "invalid filter")

    assert runtui("--store", store_url, "tag", ids[2], "triaged", home=home).code == 0
    details = json.loads(runtui("--store", store_url, "show", "--json", ids[2], home=home).out)
    assert details["tags"] == {"triaged": None}
    assert details["status"] == "Failed"

    assert runtui("--store", store_url, "fail", ids[1], "--reason", "late", home=home).code == 0
    table = runtui("--store", store_url, "ls", home=home).out
    assert table.count("Failed") == 2
