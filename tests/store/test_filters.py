"""The filter language against real stores: every construct's exact matches, bad input, hostile input, limits."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from runtui.errors import FilterSyntaxError, ValidationError
from runtui.status import TERMINAL, RunStatus
from runtui.store import NewRun, Store
from runtui.store.db import prop_t, run_t, tag_t
from runtui.store.filters import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    FieldMatch,
    MetricMatch,
    Not,
    Or,
    PropertyMatch,
    StatusMatch,
    TagMatch,
    TextMatch,
    compile_filter,
    describe,
    iter_terms,
    parse_filter,
    quote,
)

S = RunStatus
ALL = {"r1", "r2", "r3", "r4", "r5", "r6"}


def populate(store: Store) -> None:
    """Six runs that differ in every field a filter can look at."""
    new_runs = [
        NewRun(
            id="r1",
            experiment="mnist",
            status=S.RUNNING,
            display_name="Baseline LR",
            host="gpu-box-01.lab",
            user="alice",
            tags=(("quality", "great"), ("best", None)),
            properties=(("author", "alice"),),
        ),
        NewRun(
            id="r2",
            experiment="mnist",
            status=S.COMPLETED,
            display_name="wide 50%_net",
            kind="submitted",
            host="gpu-box-02",
            user="bob",
            tags=(("quality", "poor"),),
            properties=(("author", "bob"), ("lr", "0.1")),
        ),
        NewRun(
            id="r3",
            experiment="mnist",
            status=S.FAILED,
            parent_id="r2",
            kind="child",
            host="gpu-box-02",
            user="bob",
        ),
        NewRun(
            id="r4",
            experiment="CIFAR-10",
            status=S.QUEUED,
            display_name='it\'s "quoted" \\ back',
            kind="submitted",
            host="CPU-01",
            user="Carol",
            tags=(("my key", "a b"), ("quality", "")),
        ),
        NewRun(
            id="r5",
            experiment="CIFAR-10",
            status=S.CANCELED,
            display_name="Ünïcode ÄRGER 日本",
            user="alice",
        ),
        NewRun(
            id="r6",
            experiment="mnist",
            status=S.NOT_RESPONDING,
            display_name="'; DROP TABLE run; --",
            parent_id="r1",
            kind="child",
        ),
    ]
    # Finished runs take no metric points: they are created running, logged to, then finished.
    store.create_runs([replace(r, status=S.RUNNING) if r.status.is_terminal else r for r in new_runs])
    now = time.time()
    store.write_metrics(
        [
            ("r1", "loss", None, 0.5, None, "scalar", now),
            ("r1", "loss", None, 0.05, None, "scalar", now),
            ("r2", "loss", None, 0.2, None, "scalar", now),
            ("r3", "loss", None, float("nan"), None, "scalar", now),  # NaN straight into the store
            ("r4", "loss", None, None, "nan", "scalar", now),  # NaN as the SDK stores it
            ("r4", "note", None, None, '"hello"', "text", now),
            ("r5", "acc", None, 0.9, None, "scalar", now),
            ("r6", "loss", None, -1.0, None, "scalar", now),
        ]
    )
    for r in new_runs:
        if r.status.is_terminal:
            store.set_status(r.id, r.status)


@pytest.fixture
def runs(store: Store) -> Store:
    populate(store)
    return store


def matched(store: Store, text: str) -> set[str]:
    return {r.id for r in store.query_runs(where=compile_filter(text))}


def check(store: Store, cases: dict[str, set[str]]) -> None:
    got = {text: matched(store, text) for text in cases}
    assert got == cases


# ------------------------------------------------------------------------------------------ constructs


def test_bare_words_match_name_id_or_experiment_case_insensitively(runs: Store) -> None:
    check(
        runs,
        {
            "baseline": {"r1"},
            "BASELINE": {"r1"},
            "r3": {"r3"},
            "cifar": {"r4", "r5"},
            "mnist": {"r1", "r2", "r3", "r6"},
            "Ne": {"r1", "r2"},  # "baseliNE", "wide 50%_NEt"
            "zzz": set(),
            '"wide 50"': {"r2"},
            '"baseline lr"': {"r1"},
            "baseline lr": {"r1"},  # two words: both must match
            "baseline wide": set(),
        },
    )


def test_case_folding_is_ascii_only_and_the_same_on_every_backend(runs: Store) -> None:
    check(
        runs,
        {
            "ärger": set(),  # non-ASCII letters compare exactly...
            "ÄRGER": {"r5"},
            "Ärger": {"r5"},  # ...ASCII letters ignore case
            "ünïcode": set(),
            "Ünïcode": {"r5"},
            "日本": {"r5"},
        },
    )


def test_field_terms(runs: Store) -> None:
    check(
        runs,
        {
            "name:baseline": {"r1"},
            "name:r3": {"r3"},  # no display name: the name shown is the id
            "name:mnist": set(),  # not the experiment
            "id:r": ALL,
            "id:R1": {"r1"},
            "id:1": set(),  # a prefix, not a substring
            "parent:r2": {"r3"},
            "parent:r": {"r3", "r6"},
            "experiment:mnist": {"r1", "r2", "r3", "r6"},
            "exp:MNIST": {"r1", "r2", "r3", "r6"},
            "exp:cifar-10": {"r4", "r5"},
            "exp:cifar": set(),  # exact name
            "host:gpu-box": {"r1", "r2", "r3"},
            "host:cpu": {"r4"},
            "host:lab": {"r1"},
            "user:alice": {"r1", "r5"},
            "user:carol": {"r4"},
            "user:ali": set(),  # exact name
            'user:""': {"r6"},
            "kind:interactive": {"r1", "r5"},
            "kind:Submitted": {"r2", "r4"},
            "kind:child": {"r3", "r6"},
        },
    )


def test_status_terms(runs: Store) -> None:
    check(
        runs,
        {
            "status:running": {"r1"},
            "STATUS:Running": {"r1"},
            "status:notresponding": {"r6"},
            "status:not_responding": {"r6"},
            "status:running,queued": {"r1", "r4"},
            "status:live": {"r1", "r4", "r6"},
            "status:active": {"r1", "r4", "r6"},
            "status:finished": {"r2", "r3", "r5"},
            "status:done": {"r2", "r3", "r5"},
            "status:ended,running": {"r1", "r2", "r3", "r5"},
            "status:NotStarted": set(),
        },
    )


def test_tag_and_property_terms(runs: Store) -> None:
    check(
        runs,
        {
            "tag:quality": {"r1", "r2", "r4"},
            "tag:quality=great": {"r1"},
            "tag:quality=Great": set(),  # values are exact
            "tag:Quality": set(),  # keys are exact
            'tag:quality=""': {"r4"},
            "tag:best": {"r1"},  # a key-only tag
            "tag:best=x": set(),
            'tag:"my key"="a b"': {"r4"},
            'tag:"my key"': {"r4"},
            "tag:nope": set(),
            "prop:author": {"r1", "r2"},
            "prop:author=bob": {"r2"},
            "property:lr=0.1": {"r2"},
            "prop:quality": set(),  # tags are not properties
        },
    )


def test_metric_terms_compare_the_last_value(runs: Store) -> None:
    check(
        runs,
        {
            "metric:loss": {"r1", "r2", "r3", "r4", "r6"},
            "metric:loss<0.1": {"r1", "r6"},  # r1's last value is 0.05 (the first was 0.5)
            "metric:loss<=0.2": {"r1", "r2", "r6"},
            "metric:loss>0.1": {"r2"},  # NaN never compares
            "metric:loss>=0.05": {"r1", "r2"},
            "metric:loss=0.2": {"r2"},
            "metric:loss==0.2": {"r2"},
            "metric:loss!=0.2": {"r1", "r6"},
            "metric:loss>-2": {"r1", "r2", "r6"},
            "metric:loss<-0.5": {"r6"},
            "metric:loss<1e9": {"r1", "r2", "r6"},
            "metric:loss>.01": {"r1", "r2"},
            "metric:acc>=0.9": {"r5"},
            "metric:note": {"r4"},
            "metric:note<1": set(),  # a text metric is not a number
            "not metric:loss<0.1": {"r2", "r3", "r4", "r5"},  # includes runs without the metric
            "metric:Loss": set(),
        },
    )


def test_boolean_operators_and_precedence(runs: Store) -> None:
    check(
        runs,
        {
            "mnist status:running": {"r1"},
            "mnist and status:running": {"r1"},
            "mnist AND status:running": {"r1"},
            "status:running or status:queued": {"r1", "r4"},
            "not mnist": {"r4", "r5"},
            "NOT mnist": {"r4", "r5"},
            "-mnist": {"r4", "r5"},
            "--mnist": {"r1", "r2", "r3", "r6"},
            "not not mnist": {"r1", "r2", "r3", "r6"},
            # and binds tighter than or
            "user:alice and kind:interactive or status:queued": {"r1", "r5", "r4"},
            "status:queued or user:alice kind:interactive": {"r1", "r5", "r4"},
            "user:bob and (kind:child or status:queued)": {"r3"},
            "(user:bob or user:carol) -kind:child": {"r2", "r4"},
            # not binds tighter than and
            "not user:alice and mnist": {"r2", "r3", "r6"},
            "not (user:alice and mnist)": {"r2", "r3", "r4", "r5", "r6"},
            "-(status:live)": {"r2", "r3", "r5"},
            "((((mnist))))": {"r1", "r2", "r3", "r6"},
            # negating a term on a nullable column still includes the rows where it is NULL
            "-parent:r": {"r1", "r2", "r4", "r5"},
            "-name:baseline": ALL - {"r1"},
            "-wide": ALL - {"r2"},
            "lr-0.1": set(),  # one word: '-' inside a word is text
            '"lr" -"0.1"': {"r1"},
        },
    )


def test_words_that_look_like_keywords_or_fields_can_be_quoted(runs: Store) -> None:
    runs.create_runs(
        [
            NewRun(id="k1", experiment="x", status=S.RUNNING, display_name="and or not"),
            NewRun(id="k2", experiment="x", status=S.RUNNING, display_name="status:running at 12:30"),
            NewRun(id="k3", experiment="x", status=S.RUNNING, display_name="-dash (paren)"),
        ]
    )
    check(
        runs,
        {
            '"and"': {"k1"},
            '"or" "not"': {"k1"},
            '"status:running"': {"k2"},
            "12:30": {"k2"},  # a word that does not start with a field name
            'status":"running': {"k2"},  # the colon is quoted, so this is text
            '"-dash"': {"k3"},
            '"(paren)"': {"k3"},
            'name:"(paren)"': {"k3"},
        },
    )


# ------------------------------------------------------------------------------------------ no filter


@pytest.mark.parametrize("text", [None, "", "   ", "\t\n "])
def test_no_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None
    assert compile_filter(text) is None
    assert describe(parse_filter(text)) == ""


def test_no_filter_lists_every_run(runs: Store) -> None:
    assert {r.id for r in runs.query_runs(where=compile_filter("  "))} == ALL


@pytest.mark.parametrize("value", [1, b"status:running", ["x"]])
def test_a_filter_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="a filter must be text"):
        parse_filter(value)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("foo:x", 0, "unknown field 'foo'; known fields: name, id, parent, experiment, host, user, kind"),
        ("mnist Status:running bar:1", 21, "unknown field 'bar'"),
        ("http://example", 0, "put it in double quotes"),
        ("tag:", 4, "empty value after 'tag:' (write tag:KEY or tag:KEY=VALUE)"),
        ("status: running", 7, "empty value after 'status:'"),
        ("a exp:", 6, "empty value after 'exp:'"),
        ("tag:=v", 4, "missing tag key"),
        ('tag:""', 4, "missing tag key"),
        ("prop:k=", 7, "missing value after '='"),
        ("tag:quality= x", 12, "missing value after '='"),
        ("(a", 0, "unclosed '('"),
        ("a (b (c)", 2, "unclosed '('"),
        ("a (", 2, "unclosed '('"),
        ("a)", 1, "unbalanced ')'"),
        ("(a))", 3, "unbalanced ')'"),
        (")", 0, "unbalanced ')'"),
        ("()", 1, "empty parentheses"),
        ("a ( ) b", 4, "empty parentheses"),
        ("a and", 2, "'and' must be followed by a term"),
        ("a AND", 2, "'AND' must be followed by a term"),
        ("a or", 2, "'or' must be followed by a term"),
        ("not", 0, "'not' must be followed by a term"),
        ("a not", 2, "'not' must be followed by a term"),
        ("and a", 0, "'and' needs a term before it"),
        ("or a", 0, "'or' needs a term before it"),
        ("a or or b", 5, "expected a term after 'or', found 'or'"),
        ("a and or b", 6, "expected a term after 'and', found 'or'"),
        ("(a and) b", 6, "expected a term after 'and', found ')'"),
        ("not )", 4, "expected a term after 'not', found ')'"),
        ("-", 0, "'-' negates the term right after it"),
        ("a - b", 2, "'-' negates the term right after it"),
        ("(a -)", 3, "'-' negates the term right after it"),
        ("- and", 0, "'-' negates the term right after it"),
        ("-and", 1, "expected a term after '-', found 'and'"),
        ('"abc', 0, "unclosed double quote"),
        ('x "abc\\"', 2, "unclosed double quote"),
        ('name:"a b', 5, "unclosed double quote"),
        ('"abc\\', 0, "unclosed double quote"),
        ("metric:loss<", 12, "missing number after '<'"),
        ("metric:loss<abc", 12, "expected a number after '<', found 'abc'"),
        ("metric:loss<0.1.2", 12, "expected a number after '<', found '0.1.2'"),
        ("metric:loss>=1x", 13, "expected a number after '>=', found '1x'"),
        ("metric:loss<inf", 12, "expected a number after '<', found 'inf'"),
        ("metric:loss<nan", 12, "expected a number after '<', found 'nan'"),
        ("metric:loss<1e999", 12, "out of range"),
        ("metric:loss=<0.1", 11, "unknown operator '=<'; use one of < <= > >= = !="),
        ("metric:loss<>1", 11, "unknown operator '<>'"),
        ("metric:loss!1", 11, "unknown operator '!'"),
        ("metric:loss===1", 11, "unknown operator '==='"),
        ("metric:<1", 7, "missing metric name"),
        ("metric:loss < 0.1", 12, "write comparisons without spaces"),
        ("tag:quality = great", 12, "write comparisons without spaces"),
        ("!mnist", 0, "to negate a term write 'not TERM' or '-TERM'"),
        ("status:runing", 7, "unknown status 'runing'; use one of NotStarted, Queued"),
        ("status:running,bogus", 15, "unknown status 'bogus'"),
        ("status:running,", 15, "empty status name"),
        ("status:,running", 7, "empty status name"),
        ("status:running,,queued", 15, "empty status name"),
        ("kind:batch", 5, "unknown run kind 'batch'; use one of interactive, submitted, child"),
        ("a\0b", 1, "NUL"),
        ('"a\0b"', 2, "NUL"),
        ("ab\udcff", 2, "unpaired surrogate character (U+DCFF)"),
        ('tag:"\ud800"', 5, "unpaired surrogate"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        compile_filter(text)
    err = info.value
    assert (err.position, err.text) == (position, text)
    assert fragment in err.reason
    assert f"at position {position + 1}" in str(err)  # the message counts from 1, for people


def test_an_unknown_status_error_names_the_aliases() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("status:alive")
    assert "live / active" in info.value.reason
    assert "finished / done / ended" in info.value.reason


# ------------------------------------------------------------------------------------------ hostile input


HOSTILE = [
    "'; DROP TABLE run; --",
    "'); DELETE FROM run_tag; --",
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    "'",
    '"',
    "\\\\",
    "%_%",
    "a_b",
    "50%",
    "Robert'); DROP TABLE run;--",
    "' OR '1'='1",
    "日本",
    "e\u0301",  # a combining accent
    "\U0001f680",
    "tab\there",
    "new\nline",
]


def test_hostile_text_matches_literally_and_leaves_the_store_intact(store: Store) -> None:
    names = [f"run {value} end" for value in HOSTILE] + ["plain", "a-b", "abc", "50 percent", "x\\y"]
    store.create_runs(
        [
            NewRun(id=f"h{i:02d}", experiment="hostile", status=S.RUNNING, display_name=name, tags=(("t", name),))
            for i, name in enumerate(names)
        ]
    )
    ids = {name: f"h{i:02d}" for i, name in enumerate(names)}

    def expected(value: str) -> set[str]:
        needle = value.lower()  # HOSTILE has no non-ASCII capitals, so str.lower is ASCII folding here
        return {rid for name, rid in ids.items() if needle in name.lower()}

    for value in HOSTILE:
        assert matched(store, quote(value)) == expected(value), value
        assert matched(store, f"name:{quote(value)}") == expected(value), value
        assert matched(store, f"tag:t={quote('run ' + value + ' end')}") == {ids[f"run {value} end"]}, value
        assert matched(store, f"host:{quote(value)}") == set(), value
    # Unquoted, where the grammar allows it: still data.
    assert matched(store, "%") == expected("%")
    assert matched(store, "_") == expected("_")
    assert matched(store, "a_b") == expected("a_b")
    assert matched(store, "\\") == expected("\\")
    assert matched(store, "x\\y") == {ids["x\\y"]}
    assert matched(store, "';") == expected("';")
    assert matched(store, "'; DROP TABLE run;") == expected("';") & expected("drop") & expected("table") & expected(
        "run;"
    )
    with pytest.raises(FilterSyntaxError) as info:  # the trailing "--" is "not not <nothing>"
        compile_filter("'; DROP TABLE run; --")
    assert info.value.position == 20
    assert matched(store, "tag:'=1") == set()
    assert matched(store, 'tag:t="\'; DROP TABLE run_tag; --"') == set()

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(run_t)).scalar_one() == len(names)
        assert conn.execute(select(func.count()).select_from(tag_t)).scalar_one() == len(names)
        assert conn.execute(select(func.count()).select_from(prop_t)).scalar_one() == 0


def test_user_text_travels_as_bound_parameters_only() -> None:
    clause = compile_filter('"\'; DROP TABLE run; --" tag:"x\'y"="%z" host:q\'q')
    assert clause is not None
    sql = str(clause.compile())
    for fragment in ("DROP", "x'y", "%z", "q'q"):
        assert fragment not in sql


# ------------------------------------------------------------------------------------------ limits


def test_the_longest_filter_allowed_is_accepted_and_one_more_character_is_not() -> None:
    longest = "a" * MAX_LENGTH
    assert parse_filter(longest) == TextMatch(longest)
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(longest + "a")
    assert info.value.position == MAX_LENGTH
    assert f"at most {MAX_LENGTH} characters (got {MAX_LENGTH + 1})" in info.value.reason


def test_nesting_up_to_the_limit_is_accepted_and_deeper_is_not() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_filter(ok) == TextMatch("a")
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("(" + ok + ")")
    assert info.value.position == MAX_DEPTH
    assert "nested too deeply" in info.value.reason

    nots = "-" * MAX_DEPTH + "a"
    node = parse_filter(nots)
    for _ in range(MAX_DEPTH):
        assert isinstance(node, Not)
        node = node.operand
    assert node == TextMatch("a")
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("not " * (MAX_DEPTH - 1) + "(-a)")
    assert info.value.position == 4 * (MAX_DEPTH - 1) + 1
    # parentheses and negations count together
    with pytest.raises(FilterSyntaxError):
        parse_filter("(-" * (MAX_DEPTH // 2) + "-a" + ")" * (MAX_DEPTH // 2))


@pytest.mark.parametrize(
    "text",
    [
        " ".join(["a"] * (MAX_LENGTH // 2)),  # 2048 terms side by side
        " or ".join(["a"] * (MAX_LENGTH // 5)),
        " ".join(["tag:k"] * (MAX_LENGTH // 6)),
        " or ".join(["-metric:l<1"] * (MAX_LENGTH // 15)),
        "(" * (MAX_DEPTH - 1) + " ".join(["-a"] * 1000) + ")" * (MAX_DEPTH - 1),
    ],
    ids=["2048-words", "819-ors", "682-tags", "273-metrics", "nested-1000-nots"],
)
def test_the_largest_filters_run_on_the_database(runs: Store, text: str) -> None:
    """SQLite refuses expression trees deeper than 1000: long AND/OR lists must still run."""
    assert len(text) <= MAX_LENGTH
    assert isinstance(matched(runs, text), set)


def test_the_largest_filters_match_what_they_should(runs: Store) -> None:
    assert matched(runs, " ".join(["mnist"] * 600)) == {"r1", "r2", "r3", "r6"}
    assert matched(runs, " or ".join(["zz"] * 500 + ["baseline"])) == {"r1"}


# ------------------------------------------------------------------------------------------ the tree


def test_the_tree_is_made_of_frozen_dataclasses() -> None:
    node = parse_filter('mnist (status:running,queued or tag:q=great) -prop:a metric:loss<=0.1 host:"x y"')
    assert node == And(
        (
            TextMatch("mnist"),
            Or((StatusMatch((S.QUEUED, S.RUNNING)), TagMatch("q", "great"))),
            Not(PropertyMatch("a")),
            MetricMatch("loss", "<=", 0.1),
            FieldMatch("host", "x y"),
        )
    )
    assert hash(node) == hash(parse_filter(describe(node)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.operands = ()  # type: ignore[misc]
    assert list(iter_terms(node)) == [
        TextMatch("mnist"),
        StatusMatch((S.QUEUED, S.RUNNING)),
        TagMatch("q", "great"),
        PropertyMatch("a"),
        MetricMatch("loss", "<=", 0.1),
        FieldMatch("host", "x y"),
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("mnist", "mnist"),
        ("a b c", "a and b and c"),
        ("a and (b and c)", "a and b and c"),
        ("a or (b or c)", "a or b or c"),
        ("(a or b) c", "(a or b) and c"),
        ("a or b c", "a or b and c"),
        ("-(a b)", "not (a and b)"),
        ("not -a", "not not a"),
        ("-(a or b) or c", "not (a or b) or c"),
        ("STATUS:RUNNING", "status:Running"),
        ("status:running,queued,running", "status:Queued,Running"),
        ("status:active", "status:live"),
        ("status:done", "status:finished"),
        ("status:completed,failed,canceled", "status:finished"),
        ("exp:mnist", "experiment:mnist"),
        ("property:k=v", "prop:k=v"),
        ("kind:SUBMITTED", "kind:submitted"),
        ("metric:loss==1", "metric:loss=1.0"),
        ("metric:loss<1e-4", "metric:loss<0.0001"),
        ('"and"', '"and"'),
        ('"a b"', '"a b"'),
        ('"-x"', '"-x"'),
        ("12:30", '"12:30"'),
        ('tag:"k=1"=v', 'tag:"k=1"=v'),
        ('tag:k=""', 'tag:k=""'),
        ('"say \\"hi\\""', '"say \\"hi\\""'),
        ('"back\\\\slash"', '"back\\\\slash"'),
        ("a\\b", '"a\\\\b"'),
    ],
)
def test_describe_shows_a_canonical_filter_that_parses_back(text: str, shown: str) -> None:
    node = parse_filter(text)
    assert describe(node) == shown == str(node)
    assert parse_filter(shown) == node


def test_statuses_are_kept_in_status_order() -> None:
    node = parse_filter("status:finished")
    assert isinstance(node, StatusMatch)
    assert set(node.statuses) == TERMINAL
    assert node.statuses == tuple(s for s in RunStatus if s in TERMINAL)


def test_quote_round_trips_any_text() -> None:
    for text in ['a"b', "a\\b", "", " ", "and", '\\"', "x:y", "(", "-"]:
        assert parse_filter(quote(text)) == TextMatch(text)


def test_name_falls_back_to_the_id_for_an_empty_display_name_too(store: Store) -> None:
    """As RunRecord.name does (found by the hypothesis property)."""
    store.create_runs([NewRun(id="e1", experiment="x", status=S.RUNNING, display_name="")])
    assert [r.name for r in store.query_runs()] == ["e1"]
    assert matched(store, "name:e1") == {"e1"}
    assert matched(store, '"e1"') == {"e1"}  # bare words look at the id anyway


def test_many_subquery_terms_match_the_same_runs(runs: Store) -> None:
    """Past a few tag/prop/metric/experiment terms the SQL changes shape (for PostgreSQL's planner)."""
    for term in ["tag:quality", "metric:loss<0.1", "metric:loss>0.1", "prop:author", "exp:mnist", "-tag:best"]:
        single = matched(runs, term)
        assert matched(runs, " ".join([term] * 6)) == single, term
        assert matched(runs, " or ".join([term] * 6)) == single, term
    assert matched(runs, "tag:quality prop:author metric:loss<1 exp:mnist -tag:best status:finished") == {"r2"}
