"""Properties of the filter language over generated input, on real stores.

- any text either parses or raises FilterSyntaxError (never another exception), and what parses runs;
- the canonical text of any tree parses back to the same tree;
- the quoted form of any string matches exactly the runs that contain it, literally;
- over two runs, any filter selects exactly what a plain-Python model of the language selects.
"""

from __future__ import annotations

import itertools
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from runtui.errors import FilterSyntaxError
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.filters import (
    KINDS,
    And,
    FieldMatch,
    MetricMatch,
    Node,
    Not,
    Or,
    PropertyMatch,
    StatusMatch,
    TagMatch,
    TextMatch,
    compile_filter,
    describe,
    parse_filter,
    quote,
    to_clause,
)

# The store fixture is made once per test and shared by its examples: each example only adds runs.
DB = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PURE = settings(max_examples=400, deadline=None)

PIECES = [
    "(", ")", "-", "--", "not", "NOT", "and", "or", "Or", '"', '\\"', "\\", '""', "tag:", "tag:k", "tag:k=v",
    'tag:"a b"=', "prop:a=", "property:x", "metric:loss<0.1", "metric:l", "metric:", "<", ">=", "!=", "=<",
    "==", "=", "!", "status:running", "status:live,queued", "status:", ",", "status:nope", "name:", "exp:x",
    "experiment:", "kind:child", "kind:", "id:r", "host:h", "user:u", "parent:", "foo:", ":", "%", "_", "'",
    "x", "日本", "\0", "\t", "1e5", "-1", ".5", "inf",
]  # fmt: skip
soup = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=4)),
    max_size=25,
).flatmap(
    lambda parts: st.lists(st.sampled_from(["", " ", "  ", "\n"]), min_size=len(parts), max_size=len(parts)).map(
        lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=True))
    )
)
# Any code point, unpaired surrogates included (they come from undecodable command-line bytes).
any_text = st.one_of(st.text(max_size=120), st.text(alphabet=st.characters(), max_size=40), soup)
# What a run can hold: no NUL (PostgreSQL) and no unpaired surrogates (UTF-8).
storable = st.text(alphabet=st.characters(exclude_characters="\0", exclude_categories=["Cs"]), max_size=30)

_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(text: str) -> str:
    return text.translate(_FOLD)


def ids(store: Store, text: str) -> set[str]:
    return {r.id for r in store.query_runs(where=compile_filter(text))}


# ------------------------------------------------------------------------------------------ any text


@PURE
@given(any_text)
def test_any_text_parses_or_raises_a_filter_syntax_error(text: str) -> None:
    try:
        node = parse_filter(text)
    except FilterSyntaxError as err:
        assert 0 <= err.position <= len(text)
        assert err.text == text
        return
    if node is None:
        assert text.strip() == ""
        return
    assert parse_filter(describe(node)) == node
    clause = to_clause(node)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        clause.compile(dialect=dialect)


# Two runs, as the store holds them and as plain Python data for the model below.
MODEL_RUNS: list[dict[str, Any]] = [
    {
        "id": "a1", "experiment": "x", "status": RunStatus.RUNNING, "display_name": "a 日本", "parent_id": None,
        "kind": "interactive", "host": "gpu-A", "user": "ann", "tags": {"k": "v", "key only": None},
        "props": {}, "metrics": {"loss": 0.05},
    },
    {
        "id": "b2", "experiment": "y", "status": RunStatus.FAILED, "display_name": None, "parent_id": "a1",
        "kind": "child", "host": "cpu-b", "user": "Bob", "tags": {}, "props": {"p": "1"},
        "metrics": {"acc": 0.9, "note": None},
    },
]  # fmt: skip


def _create_model_runs(store: Store) -> None:
    # The runs start out running and take their own status after their metrics: the store refuses points
    # for a finished run (b2 is Failed), and a refused point would leave the store unlike the model.
    store.create_runs(
        [
            NewRun(
                id=r["id"], experiment=r["experiment"], status=RunStatus.RUNNING, display_name=r["display_name"],
                parent_id=r["parent_id"], kind=r["kind"], host=r["host"], user=r["user"],
                tags=tuple(r["tags"].items()), properties=tuple(r["props"].items()),
            )
            for r in MODEL_RUNS
        ]
    )  # fmt: skip
    points = [
        ("a1", "loss", None, 0.05, None, "scalar", 0.0),
        ("b2", "acc", None, 0.9, None, "scalar", 0.0),
        ("b2", "note", None, None, "a string", "text", 0.0),
    ]
    assert store.write_metrics(points) == len(points)
    for r in MODEL_RUNS:
        if r["status"] != RunStatus.RUNNING:
            store.set_status(r["id"], r["status"])
    assert {r.id: r.status for r in store.query_runs()} == {r["id"]: r["status"] for r in MODEL_RUNS}


def model(node: Node, run: dict[str, Any]) -> bool:
    """The filter language as the module docstring of runtui.store.filters states it, in plain Python."""
    if isinstance(node, Not):
        return not model(node.operand, run)
    if isinstance(node, And):
        return all(model(o, run) for o in node.operands)
    if isinstance(node, Or):
        return any(model(o, run) for o in node.operands)
    if isinstance(node, TextMatch):
        return any(fold(node.text) in fold(v) for v in (run["display_name"] or "", run["id"], run["experiment"]))
    if isinstance(node, FieldMatch):
        v = fold(node.value)
        return {
            "name": lambda: v in fold(run["display_name"] or run["id"]),
            "id": lambda: fold(run["id"]).startswith(v),
            "parent": lambda: run["parent_id"] is not None and fold(run["parent_id"]).startswith(v),
            "experiment": lambda: fold(run["experiment"]) == v,
            "host": lambda: v in fold(run["host"]),
            "user": lambda: fold(run["user"]) == v,
            "kind": lambda: run["kind"] == node.value,
        }[node.field]()
    if isinstance(node, StatusMatch):
        return run["status"] in node.statuses
    if isinstance(node, (TagMatch, PropertyMatch)):
        held = run["tags"] if isinstance(node, TagMatch) else run["props"]
        return node.key in held and (node.value is None or held[node.key] == node.value)
    assert isinstance(node, MetricMatch)
    if node.name not in run["metrics"]:
        return False
    if node.op is None or node.value is None:
        return True
    last = run["metrics"][node.name]
    if last is None:  # not a number: matches no comparison
        return False
    return {
        "<": last < node.value,
        "<=": last <= node.value,
        ">": last > node.value,
        ">=": last >= node.value,
        "=": last == node.value,
        "!=": last != node.value,
    }[node.op]


def _expected(node: Node | None) -> set[str]:
    return {r["id"] for r in MODEL_RUNS if node is None or model(node, r)}


@DB
@given(text=any_text)
def test_whatever_parses_selects_what_the_model_selects(store: Store, text: str) -> None:
    """Any text: a syntax error, or exactly the runs the Python model of the language selects (before, this
    property only checked that nothing crashed)."""
    if not store.count_runs():
        _create_model_runs(store)
    try:
        node = parse_filter(text)
    except FilterSyntaxError:
        return
    assert ids(store, text) == _expected(node), describe(node) if node else text
    assert store.count_runs() == 2


# Trees over the two runs' own words, so that most of them select something (and the not-s matter).
_vocab = st.sampled_from(["", "a", "A", "1", "a1", "B", "b2", "日本", "x", "y", "gpu", "-b", "ann", "bob", "k", "v"])
_keys = st.sampled_from(["k", "K", "key only", "p", "loss", "acc", "note", "none"])
model_terms = st.one_of(
    st.builds(TextMatch, _vocab),
    st.builds(FieldMatch, st.sampled_from(["name", "id", "parent", "experiment", "host", "user"]), _vocab),
    st.builds(FieldMatch, st.just("kind"), st.sampled_from(KINDS)),
    st.sets(st.sampled_from(list(RunStatus)), min_size=1).map(
        lambda chosen: StatusMatch(tuple(s for s in RunStatus if s in chosen))
    ),
    st.builds(TagMatch, _keys, st.none() | _vocab),
    st.builds(PropertyMatch, _keys, st.none() | st.sampled_from(["1", "2", ""])),
    st.builds(MetricMatch, _keys),
    st.builds(
        MetricMatch, _keys, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), st.sampled_from([0.05, 0.9, 0.5, -1.0])
    ),
)


@DB
@given(
    node=st.recursive(
        model_terms,
        lambda c: st.one_of(st.builds(Not, c), st.builds(And, st.tuples(c, c)), st.builds(Or, st.tuples(c, c))),
        max_leaves=8,
    )
)
def test_any_tree_selects_what_the_model_selects(store: Store, node: Node) -> None:
    if not store.count_runs():
        _create_model_runs(store)
    assert {r.id for r in store.query_runs(where=to_clause(node))} == _expected(node), describe(node)


# ------------------------------------------------------------------------------------------ trees

words = st.text(alphabet=st.characters(exclude_characters="\0", exclude_categories=["Cs"]), max_size=12)
keys = st.text(alphabet=st.characters(exclude_characters="\0", exclude_categories=["Cs"]), min_size=1, max_size=12)
terms = st.one_of(
    st.builds(TextMatch, words),
    st.builds(FieldMatch, st.sampled_from(["name", "id", "parent", "experiment", "host", "user"]), words),
    st.builds(FieldMatch, st.just("kind"), st.sampled_from(KINDS)),
    st.sets(st.sampled_from(list(RunStatus)), min_size=1).map(
        lambda chosen: StatusMatch(tuple(s for s in RunStatus if s in chosen))
    ),
    st.builds(TagMatch, keys, st.none() | words),
    st.builds(PropertyMatch, keys, st.none() | words),
    st.builds(MetricMatch, keys),
    st.builds(
        MetricMatch,
        keys,
        st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
)


def _compound(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def flat(kind: type[And] | type[Or]) -> st.SearchStrategy[Node]:
        # The parser flattens `a and (b and c)`: a tree it can produce never nests an And in an And.
        return st.lists(children.filter(lambda n: not isinstance(n, kind)), min_size=2, max_size=4).map(
            lambda ops: kind(tuple(ops))
        )

    return st.one_of(st.builds(Not, children), flat(And), flat(Or))


trees = st.recursive(terms, _compound, max_leaves=12)


@PURE
@given(trees)
def test_the_text_of_any_tree_parses_back_to_it(node: Node) -> None:
    text = describe(node)
    assert parse_filter(text) == node
    assert describe(parse_filter(text)) == text


# ------------------------------------------------------------------------------------------ literal matching

_serial = itertools.count()


@DB
@given(needle=storable, around=st.tuples(storable, storable))
def test_a_quoted_string_matches_exactly_the_runs_that_contain_it(
    store: Store, needle: str, around: tuple[str, str]
) -> None:
    run_id = f"q{next(_serial)}"
    name = around[0] + needle + around[1]
    store.create_runs(
        [NewRun(id=run_id, experiment="lit", status=RunStatus.RUNNING, display_name=name, tags=(("t", needle),))]
    )
    runs = list(store.query_runs())
    expected = {r.id for r in runs if any(fold(needle) in fold(v) for v in (r.display_name or "", r.id, r.experiment))}
    assert run_id in expected
    assert ids(store, quote(needle)) == expected
    assert ids(store, "name:" + quote(needle)) == {r.id for r in runs if fold(needle) in fold(r.name)}
    tags = store.get_tags([r.id for r in runs])
    assert ids(store, "tag:t=" + quote(needle)) == {r.id for r in runs if tags[r.id]["t"] == needle}


@pytest.mark.parametrize("needle", ["%", "_", "\\", "'", '"', "' or 1=1 --", "日本", "Ä", "\U0001f680"])
def test_wildcards_and_quotes_are_data_in_the_property_too(store: Store, needle: str) -> None:
    """The same property, pinned for the characters most likely to be mistaken for syntax."""
    store.create_runs(
        [
            NewRun(id="with", experiment="lit", status=RunStatus.RUNNING, display_name=f"a{needle}b"),
            NewRun(id="without", experiment="lit", status=RunStatus.RUNNING, display_name="ab"),
        ]
    )
    assert ids(store, quote(needle)) == {"with"}
