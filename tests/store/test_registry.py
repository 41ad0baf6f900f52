"""The model registry's records: versions per name (atomic), latest, filters, tags, add-only properties."""

from __future__ import annotations

import threading

import pytest

from runtui.errors import NotFoundError, PropertyOverwriteError, ValidationError
from runtui.store import Store


def _register(store: Store, name: str = "clf", **kw: object) -> object:
    return store.register_model(name, path=f"models/{name}/x", source_path="outputs/model.pkl", **kw)  # type: ignore[arg-type]


def test_versions_count_up_per_name_and_latest_is_the_default(store: Store) -> None:
    one = store.register_model(
        "clf",
        path="models/clf/1",
        source_path="outputs/model.pkl",
        run_id="r1",
        experiment="e",
        description="first",
        framework="ScikitLearn",
        framework_version="1.5",
        tags={"stage": "dev", "flag": None},
        properties={"acc": "0.9"},
        size=1234,
    )
    assert (one.id, one.version, one.size, one.tags, one.properties) == (
        "clf:1",
        1,
        1234,
        {"stage": "dev", "flag": None},
        {"acc": "0.9"},
    )
    _register(store)
    _register(store, "other")
    assert store.get_model("clf").version == 2
    assert store.get_model("clf", 1) == one
    with pytest.raises(NotFoundError, match="no version 9 of model 'clf'"):
        store.get_model("clf", 9)
    with pytest.raises(NotFoundError, match="no model named 'ghost'"):
        store.get_model("ghost")


def test_list_filters_and_orders_newest_first(store: Store) -> None:
    _register(store, tags={"stage": "dev"}, run_id="r1")
    _register(store, tags={"stage": "prod"}, properties={"acc": "0.9"})
    _register(store, "other", tags={"stage": "prod"})
    assert [m.id for m in store.list_models()] == ["other:1", "clf:2", "clf:1"]
    assert [m.id for m in store.list_models(name="clf")] == ["clf:2", "clf:1"]
    assert [m.id for m in store.list_models(tags={"stage": "prod"})] == ["other:1", "clf:2"]
    assert [m.id for m in store.list_models(tags=["stage"])] == ["other:1", "clf:2", "clf:1"]
    assert [m.id for m in store.list_models(properties={"acc": "0.9"})] == ["clf:2"]
    assert [m.id for m in store.list_models(run_id="r1")] == ["clf:1"]
    assert [m.id for m in store.list_models(latest=True)] == ["other:1", "clf:2"]


def test_tags_change_and_properties_are_add_only(store: Store) -> None:
    _register(store, tags={"a": "1", "b": "2"}, properties={"p": "x"})
    assert store.set_model_tags("clf:1", add={"c": None, "a": "9"}, remove=["b"]).tags == {"a": "9", "c": None}
    rec = store.update_model("clf:1", description="better", properties={"q": "y", "p": "x"})
    assert (rec.description, rec.properties) == ("better", {"p": "x", "q": "y"})
    with pytest.raises(PropertyOverwriteError):
        store.update_model("clf:1", properties={"p": "changed"})
    assert store.get_model("clf").properties == {"p": "x", "q": "y"}  # nothing written
    store.delete_model("clf:1")
    with pytest.raises(NotFoundError):
        store.delete_model("clf:1")
    with pytest.raises(NotFoundError):
        store.set_model_tags("clf:1", add={"a": "b"})


@pytest.mark.parametrize("bad", ["", "a:b", "a/b", "..", "x" * 256, "tab\there"])
def test_bad_names_and_values_are_one_clear_error(store: Store, bad: str) -> None:
    with pytest.raises(ValidationError, match="model name"):
        _register(store, bad)
    with pytest.raises(ValidationError, match="model tags"):
        _register(store, tags={"k": 1})
    assert store.list_models() == []


def test_concurrent_registrations_take_distinct_versions(store: Store) -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            _register(store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(m.version for m in store.list_models(name="clf")) == list(range(1, 9))
