"""runtui.core.values: the one place user values are checked and shaped (no store needed)."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from runtui.core import values
from runtui.errors import ValidationError


def test_scalars_keep_their_python_type_as_text() -> None:
    assert values.scalar("m", 3) == (3.0, "3", "scalar")
    assert values.scalar("m", True) == (1.0, "True", "scalar")
    assert values.scalar("m", 0.5) == (0.5, None, "scalar")
    assert values.scalar("m", None) == (None, "None", "scalar")
    assert values.scalar("m", float("nan"))[:2] == (None, "nan")
    assert values.scalar("m", np.int64(7)) == (7.0, "7", "scalar")
    assert values.scalar("m", "hi") == (None, "hi", "text")
    with pytest.raises(ValidationError, match="too large"):
        values.scalar("m", 10**400)


def test_any_iterable_for_lists_and_tables() -> None:
    assert json.loads(values.as_list("l", (x * 2 for x in range(3)))) == [0, 2, 4]
    assert json.loads(values.as_list("l", np.array([1.5, 2.5]))) == [1.5, 2.5]
    assert json.loads(values.as_list("l", range(2))) == [0, 1]
    assert json.loads(values.as_table("t", {"a": np.array([1, 2]), "b": iter("xy")})) == {"a": [1, 2], "b": ["x", "y"]}
    with pytest.raises(ValidationError, match="must be a list of values"):
        values.as_list("l", "abc")
    with pytest.raises(ValidationError, match="must be a list of values"):
        values.as_list("l", 3)
    with pytest.raises(ValidationError, match="same number of values"):
        values.as_table("t", {"a": [1, 2], "b": [1]})
    with pytest.raises(ValidationError, match="holds a object"):
        values.as_list("l", [object()])


def test_metric_value_shapes_as_azure() -> None:
    mv = values.metric_value
    assert mv("scalar", [1]) == 1
    assert mv("scalar", [1, 2]) == [1, 2]
    assert mv("list", [[1, 2], [3]]) == [1, 2, 3]  # repeated log_list: one flat list
    assert mv("list", [[5]]) == 5  # log_list([x]) -> x
    assert mv("row", [{"a": 1, "b": 2}]) == {"a": 1, "b": 2}  # one log_row -> {col: value}
    assert mv("row", [{"a": 1}, {"a": 2}]) == {"a": [1, 2]}
    assert mv("table", [{"a": [1, 2]}, {"a": [3]}]) == {"a": [1, 2, 3]}  # log_table twice appends
    assert mv("list", [["nan"]]) != mv("list", [["nan"]])  # NaN comes back as a float NaN
    assert math.isinf(mv("list", [["inf"]]))
    doc = {"schema_type": "confusion_matrix", "data": {"matrix": [[1]]}}
    assert mv("confusion_matrix", [doc]) == doc


def test_documents() -> None:
    doc = {"schema_type": "accuracy_table", "data": {"probability_tables": np.array([[1, 0]])}}
    assert json.loads(values.as_document("a", doc, "accuracy_table"))["data"]["probability_tables"] == [[1, 0]]
    assert json.loads(values.as_document("a", '{"x": 1}', "residuals")) == {"x": 1}
    with pytest.raises(ValidationError, match="not valid JSON"):
        values.as_document("a", "{nope", "residuals")
    with pytest.raises(ValidationError, match="expected a dict"):
        values.as_document("a", [1, 2], "predictions")


def test_tag_and_property_values_convert_with_str(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="runtui"):
        tags = values.normalize_tags({"n": np.float32(1.5), "l": [1, 2], "i": 3, "none": None})
    assert tags == {"n": "1.5", "l": "[1, 2]", "i": "3", "none": None}
    assert sum("Converting non-string" in r.message for r in caplog.records) == 2  # numbers convert silently
    assert values.normalize_properties({"p": True}) == {"p": "True"}
    with pytest.raises(ValidationError, match="at most 4096"):
        values.normalize_tags({"k": "v" * 5000})
    with pytest.raises(ValidationError, match="tags must be a dict"):
        values.normalize_tags(["a"])
    with pytest.raises(ValidationError, match="NUL"):
        values.normalize_properties({"k": "a\0"})


def test_queries_and_key_lists() -> None:
    assert values.tag_query("k") == {"k": None}
    assert values.tag_query(["a", "b"]) == {"a": None, "b": None}
    assert values.tag_query({"a": 1}) == {"a": "1"}
    assert values.key_list("a", "tag key") == ["a"]
    assert values.key_list(("a", "b"), "tag key") == ["a", "b"]
    with pytest.raises(ValidationError, match="expected a tag key or a list"):
        values.key_list(3, "tag key")
    with pytest.raises(ValidationError):
        values.tag_query(3)


def test_artifact_names_stay_inside_the_run() -> None:
    assert values.artifact_name("outputs\\m.pkl") == "outputs/m.pkl"
    for bad in ("../x", "/etc/passwd", "", "snapshot.zip", "~/x", 3):
        with pytest.raises(ValidationError):
            values.artifact_name(bad)
