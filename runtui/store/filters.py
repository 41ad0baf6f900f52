"""The filter language: what the TUI's `/`, `runtui ls FILTER` and `exp.get_runs(filter=...)` accept.

A filter is parsed into a small tree of frozen dataclasses (`parse_filter`), which other layers may
inspect, and compiled into a SQLAlchemy condition over the `run` table (`compile_filter`), for
`Store.query_runs(where=...)`. Everything the user types travels as bound parameters: no part of a
filter is ever pasted into SQL, and LIKE wildcards typed by the user (`%`, `_`, `\\`) match literally.

Grammar
-------
::

    filter  := or-expr                          (empty or blank text: no filter)
    or-expr := and-expr ( "or" and-expr )*
    and-expr:= unary ( ["and"] unary )*         (terms side by side mean "and")
    unary   := "not" unary | "-" unary | "(" or-expr ")" | term
    term    := word | "quoted phrase" | field ":" value

Keywords (`and`, `or`, `not`) are case-insensitive; precedence is not > and > or. `-term` is a short
form of `not term` (only at the start of a term: `lr-0.1` is one word). A term ends at whitespace or a
parenthesis; double quotes group text with spaces, parentheses, colons or keywords in it, and inside
them a backslash makes the next character literal (`"say \\"hi\\""`). Quotes may also wrap a field's
value or key: `tag:"my key"="a value"`, `name:"run (2)"`.

Terms
-----
============================  ==================================================================
`word`, `"a phrase"`          the run's display name, id or experiment name contains it
`name:TEXT`                   the name shown for the run (display name, else id) contains TEXT
`id:PREFIX`                   the run id starts with PREFIX
`parent:PREFIX`               the run is a child run whose parent's id starts with PREFIX
`experiment:NAME`             the run belongs to experiment NAME (exactly); alias `exp:`
`host:TEXT`                   the run's host name contains TEXT
`user:NAME`                   the run was started by user NAME (exactly)
`kind:KIND`                   `interactive` (start_logging), `submitted` (exp.submit) or `child`
`status:S[,S...]`             the run's status is one of the listed ones (see below)
`tag:KEY`, `tag:KEY=VALUE`    the run has tag KEY (with any value, or exactly VALUE)
`prop:KEY`, `prop:KEY=VALUE`  the same for properties; alias `property:`
`metric:NAME`                 the run has logged metric NAME
`metric:NAME<NUMBER`          the last value of NAME compares so; operators < <= > >= = (==) !=
============================  ==================================================================

Text comparisons (words, `name`, `id`, `parent`, `host`, `user`, `experiment`) ignore the case of
ASCII letters and compare every other character exactly, the same way on SQLite and PostgreSQL.
Tag and property keys and values, and metric names, are case-sensitive and matched exactly.
`tag:KEY=` with nothing after `=` is an error; `tag:KEY=""` matches an empty value.

Statuses are the run statuses, case-insensitive (`running`, `NotStarted`, `cancel_requested`), plus:
`live` or `active`: every status that is not terminal; `finished`, `done` or `ended`: the terminal ones
(Completed, Failed, Canceled). Field names are case-insensitive.

A metric comparison uses the metric's last value (from the metric summary). A number is written as in
`0.1`, `-3`, `1e-4` (no `inf` or `nan`); a metric whose last value is not a number (a string, a list,
NaN) matches no comparison, and `not metric:loss<0.1` also matches runs that never logged `loss`.

No filter
---------
`parse_filter` and `compile_filter` return None for None, empty or blank text, and
`Store.query_runs(where=None)` lists every run: `query_runs(where=compile_filter(text))` works for any
text. `describe(tree)` (or `str(tree)`) gives the canonical text of a tree, which parses back to it;
`quote(text)` makes a phrase that matches `text` literally; `iter_terms(tree)` yields its terms.

Limits and errors
-----------------
Any error raises `runtui.errors.FilterSyntaxError` with the 0-based `position` of the offending
character (`len(text)` when the text ends too early; the message counts from 1). A filter longer
than 4096 characters, or nested more than 50 levels deep (parentheses and negations), is refused; so
are a NUL character and unpaired surrogates (undecodable bytes from a command line): no store can
hold them in a run.
A word that looks like `field:value` with an unknown field is an error (quote text with a colon).

Examples: `status:running tag:quality`, `mnist -status:failed`, `metric:loss<0.1 or tag:best`,
`(exp:cifar or exp:mnist) and not user:bob`, `"lr 0.1" host:gpu`.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from sqlalchemy import Boolean, ColumnElement, String, and_, func, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from runtui.errors import FilterSyntaxError, ValidationError
from runtui.status import TERMINAL, RunStatus, parse_status
from runtui.store.models import experiment_table, property_table, run_table, summary_table, tag_table

__all__ = [
    "FIELDS",
    "KINDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "FieldMatch",
    "MetricMatch",
    "Node",
    "Not",
    "Or",
    "PropertyMatch",
    "StatusMatch",
    "TagMatch",
    "Term",
    "TextMatch",
    "compile_filter",
    "describe",
    "iter_terms",
    "parse_filter",
    "quote",
    "to_clause",
]

MAX_LENGTH = 4096
MAX_DEPTH = 50

# Field name -> how it is written (for error messages and help screens; the meaning is in the docstring).
FIELDS: dict[str, str] = {
    "name": "name:TEXT",
    "id": "id:PREFIX",
    "parent": "parent:PREFIX",
    "experiment": "experiment:NAME (or exp:NAME)",
    "host": "host:TEXT",
    "user": "user:NAME",
    "kind": "kind:interactive, kind:submitted or kind:child",
    "status": "status:running or status:running,queued (or live, finished)",
    "tag": "tag:KEY or tag:KEY=VALUE",
    "prop": "prop:KEY or prop:KEY=VALUE",
    "metric": "metric:NAME or metric:NAME<NUMBER (< <= > >= = !=)",
}
_ALIASES = {"exp": "experiment", "property": "prop"}
KINDS = ("interactive", "submitted", "child")
_LIVE = tuple(s for s in RunStatus if s not in TERMINAL)
_FINISHED = tuple(s for s in RunStatus if s in TERMINAL)
_STATUS_ALIASES: dict[str, tuple[RunStatus, ...]] = {
    "live": _LIVE,
    "active": _LIVE,
    "finished": _FINISHED,
    "done": _FINISHED,
    "ended": _FINISHED,
}
_KEYWORDS = ("and", "or", "not")
_OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "=", "!=": "!="}
_OP_CHARS = "<>=!"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Text that `describe` may write without quotes (anything else is quoted).
_PLAIN = re.compile(r"[\w.@/+-]+")

MetricOp = Literal["<", "<=", ">", ">=", "=", "!="]
FieldName = Literal["name", "id", "parent", "experiment", "host", "user", "kind"]


# ---------------------------------------------------------------------------------------------- the tree


def quote(text: str) -> str:
    """`text` as a double-quoted filter phrase that matches it literally."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _atom(text: str) -> str:
    """`text` as written in a filter: bare when that reads back the same, quoted otherwise."""
    if _PLAIN.fullmatch(text) and not text.startswith("-") and text.lower() not in _KEYWORDS:
        return text
    return quote(text)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """A bare word or quoted phrase: the run's display name, id or experiment contains it."""

    text: str

    def __str__(self) -> str:
        return _atom(self.text)


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """`name:`, `id:`, `parent:`, `experiment:`, `host:`, `user:` or `kind:` (see the module docstring)."""

    field: FieldName
    value: str

    def __str__(self) -> str:
        return f"{self.field}:{_atom(self.value)}"


@dataclass(frozen=True, slots=True)
class StatusMatch:
    """`status:...`: the run's status is one of `statuses` (in RunStatus order, no duplicates)."""

    statuses: tuple[RunStatus, ...]

    def __str__(self) -> str:
        if self.statuses == _LIVE:
            return "status:live"
        if self.statuses == _FINISHED:
            return "status:finished"
        return "status:" + ",".join(s.value for s in self.statuses)


@dataclass(frozen=True, slots=True)
class TagMatch:
    """`tag:KEY` (value None: any value, including a key-only tag) or `tag:KEY=VALUE`."""

    key: str
    value: str | None = None

    def __str__(self) -> str:
        return "tag:" + _atom(self.key) + ("" if self.value is None else "=" + _atom(self.value))


@dataclass(frozen=True, slots=True)
class PropertyMatch:
    """`prop:KEY` (value None: any value) or `prop:KEY=VALUE`."""

    key: str
    value: str | None = None

    def __str__(self) -> str:
        return "prop:" + _atom(self.key) + ("" if self.value is None else "=" + _atom(self.value))


@dataclass(frozen=True, slots=True)
class MetricMatch:
    """`metric:NAME` (op None: the metric was logged) or `metric:NAME<op><value>` on its last value."""

    name: str
    op: MetricOp | None = None
    value: float | None = None

    def __str__(self) -> str:
        if self.op is None or self.value is None:
            return "metric:" + _atom(self.name)
        return f"metric:{_atom(self.name)}{self.op}{self.value!r}"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node

    def __str__(self) -> str:
        return "not " + _child(self.operand, 3)


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " and ".join(_child(o, 2) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " or ".join(_child(o, 1) for o in self.operands)


Node = Union[TextMatch, FieldMatch, StatusMatch, TagMatch, PropertyMatch, MetricMatch, Not, And, Or]  # noqa: UP007
Term = Union[TextMatch, FieldMatch, StatusMatch, TagMatch, PropertyMatch, MetricMatch]  # noqa: UP007


def _child(node: Node, binding: int) -> str:
    """`node` inside an operator that binds with strength `binding` (or 1, and 2, not 3)."""
    strength = 1 if isinstance(node, Or) else 2 if isinstance(node, And) else 3
    return str(node) if strength >= binding else f"({node})"


def describe(node: Node | None) -> str:
    """The filter as text (canonical form; parses back to the same tree). Empty for no filter."""
    return "" if node is None else str(node)


def iter_terms(node: Node | None) -> Iterator[Term]:
    """Every term (leaf) of the tree, left to right."""
    if node is None:
        return
    if isinstance(node, Not):
        yield from iter_terms(node.operand)
    elif isinstance(node, (And, Or)):
        for operand in node.operands:
            yield from iter_terms(operand)
    else:
        yield node


# ---------------------------------------------------------------------------------------------- lexing


# One character of a term: (character, position in the text, inside quotes?)
_Char = tuple[str, int, bool]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["(", ")", "not", "and", "or", "term"]
    pos: int
    text: str  # as written, for messages
    chars: tuple[_Char, ...] = ()
    # Indexes into `chars` where a quoted part starts (an empty "" leaves a mark without characters).
    quotes: tuple[int, ...] = ()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, i, c))  # type: ignore[arg-type]
            i += 1
        elif c == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                raise FilterSyntaxError(
                    text, i, "'-' negates the term right after it, but none follows (quote text that starts with '-')"
                )
            tokens.append(_Token("not", i, "-"))
            i += 1
        elif c in _OP_CHARS:
            hint = (
                "to negate a term write 'not TERM' or '-TERM'" if c == "!" else "put text that starts with it in quotes"
            )
            raise FilterSyntaxError(
                text,
                i,
                f"unexpected {c!r}: write comparisons without spaces (metric:loss<0.1, tag:key=value); {hint}",
            )
        else:
            i = _lex_term(text, i, tokens)
    return tokens


def _lex_term(text: str, start: int, tokens: list[_Token]) -> int:
    """Read one term from `start` (quoted parts included); append it; return where it ends."""
    n = len(text)
    chars: list[_Char] = []
    quotes: list[int] = []
    i = start
    while i < n:
        c = text[i]
        if c.isspace() or c in "()":
            break
        if c != '"':
            chars.append((c, i, False))
            i += 1
            continue
        opened = i
        quotes.append(len(chars))
        i += 1
        while True:
            if i >= n:
                raise FilterSyntaxError(text, opened, 'unclosed double quote (a \\" inside quotes is a literal quote)')
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                if i + 1 >= n:
                    raise FilterSyntaxError(text, opened, "unclosed double quote (the last \\ escapes the closing one)")
                chars.append((text[i + 1], i + 1, True))
                i += 2
            else:
                chars.append((c, i, True))
                i += 1
    written = text[start:i]
    if not quotes and written.lower() in _KEYWORDS:
        tokens.append(_Token(written.lower(), start, written))  # type: ignore[arg-type]
    else:
        tokens.append(_Token("term", start, written, tuple(chars), tuple(quotes)))
    return i


# ---------------------------------------------------------------------------------------------- parsing


def parse_filter(text: str | None) -> Node | None:
    """Parse a filter into its tree; None for no filter (None, empty or blank text).

    Raises FilterSyntaxError (with the position of the problem) for anything that does not parse.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError(f"a filter must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(
            text[:80] + "...", MAX_LENGTH, f"a filter can have at most {MAX_LENGTH} characters (got {len(text)})"
        )
    nul = text.find("\0")
    if nul >= 0:
        raise FilterSyntaxError(text, nul, "a filter cannot contain a NUL character")
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:  # e.g. undecodable bytes in a command line; no database can take them
        code = ord(surrogate.group())
        raise FilterSyntaxError(
            text, surrogate.start(), f"a filter cannot contain an unpaired surrogate character (U+{code:04X})"
        )
    tokens = _tokenize(text)
    if not tokens:
        return None
    return _Parser(text, tokens).parse()


class _Parser:
    """Recursive descent over the tokens; recursion is bounded by MAX_DEPTH."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def error(self, position: int, message: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, position, message)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.or_expr(0, None)
        extra = self.peek()
        if extra is not None:  # or_expr stops early only at a ')'
            raise self.error(extra.pos, "unbalanced ')': there is no '(' before it")
        return node

    def or_expr(self, depth: int, after: _Token | None) -> Node:
        parts = [self.and_expr(depth, after)]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.i += 1
            parts.append(self.and_expr(depth, tok))
        return _flatten(Or, parts)

    def and_expr(self, depth: int, after: _Token | None) -> Node:
        parts = [self.unary(depth, after)]
        while (tok := self.peek()) is not None and tok.kind not in (")", "or"):
            if tok.kind == "and":
                self.i += 1
                parts.append(self.unary(depth, tok))
            else:
                parts.append(self.unary(depth, None))
        return _flatten(And, parts)

    def unary(self, depth: int, after: _Token | None) -> Node:
        tok = self.peek()
        if tok is None:
            assert after is not None  # the first token always exists, and '(' checks its own end
            raise self.error(after.pos, f"{after.text!r} must be followed by a term")
        if tok.kind == "term":
            self.i += 1
            return _term(self.text, tok)
        if tok.kind in ("not", "("):
            if depth >= MAX_DEPTH:
                raise self.error(tok.pos, f"the filter is nested too deeply (more than {MAX_DEPTH} levels)")
            self.i += 1
            if tok.kind == "not":
                return Not(self.unary(depth + 1, tok))
            inner = self.peek()
            if inner is None:
                raise self.error(tok.pos, "unclosed '(': add a ')'")
            if inner.kind == ")":
                raise self.error(inner.pos, "empty parentheses: put a term between them")
            node = self.or_expr(depth + 1, None)
            if self.peek() is None:
                raise self.error(tok.pos, "unclosed '(': add a ')'")
            self.i += 1  # the ')'
            return node
        # 'and', 'or' or ')' where a term should be
        if after is not None:
            raise self.error(tok.pos, f"expected a term after {after.text!r}, found {tok.text!r}")
        if tok.kind == ")":
            raise self.error(tok.pos, "unbalanced ')': there is no '(' before it")
        raise self.error(tok.pos, f"{tok.text!r} needs a term before it")


def _flatten(kind: type[And] | type[Or], parts: list[Node]) -> Node:
    if len(parts) == 1:
        return parts[0]
    flat: list[Node] = []
    for p in parts:
        flat.extend(p.operands if isinstance(p, kind) else (p,))
    return kind(tuple(flat))


# ---------------------------------------------------------------------------------------------- terms


def _text(chars: Sequence[_Char]) -> str:
    return "".join(c[0] for c in chars)


def _find(chars: Sequence[_Char], wanted: str) -> int:
    """Index of the first unquoted character in `wanted`, or -1."""
    for k, (c, _pos, quoted) in enumerate(chars):
        if not quoted and c in wanted:
            return k
    return -1


def _term(text: str, tok: _Token) -> Term:
    chars = tok.chars
    # A field is a leading unquoted name of ASCII letters (and '_'), then an unquoted ':'.
    j = 0
    while (
        j < len(chars) and not chars[j][2] and chars[j][0].isascii() and (chars[j][0].isalpha() or chars[j][0] == "_")
    ):
        j += 1
    is_field = j > 0 and j < len(chars) and chars[j][0] == ":" and not chars[j][2] and all(q > j for q in tok.quotes)
    if not is_field:
        return TextMatch(_text(chars))
    written = _text(chars[:j])
    field = _ALIASES.get(written.lower(), written.lower())
    if field not in FIELDS:
        raise FilterSyntaxError(
            text,
            tok.pos,
            f"unknown field {written!r}; known fields: {', '.join(FIELDS)} (and exp, property); "
            "to search for text with a colon, put it in double quotes",
        )
    return _Value(text, written, chars[j][1] + 1, chars[j + 1 :], tuple(q - j - 1 for q in tok.quotes)).parse(field)


class _Value:
    """The part of a `field:value` term after the colon."""

    def __init__(self, text: str, field: str, pos: int, chars: tuple[_Char, ...], quotes: tuple[int, ...]) -> None:
        self.text = text
        self.field = field  # as written
        self.pos = pos  # where the value starts (just after the colon)
        self.chars = chars
        self.quotes = quotes

    def error(self, position: int, message: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, position, message)

    def end_of(self, lo: int, hi: int) -> int:
        """Source position just after chars[lo:hi] (or where it would start when empty)."""
        if hi > lo:
            return self.chars[hi - 1][1] + 1
        return self.chars[lo - 1][1] + 1 if lo > 0 else self.pos

    def quoted_in(self, lo: int, hi: int) -> bool:
        return any(lo <= q <= hi for q in self.quotes)

    def parse(self, field: str) -> Term:
        if not self.chars and not self.quotes:
            raise self.error(self.pos, f"empty value after '{self.field}:' (write {FIELDS[field]})")
        handler: Callable[[], Term] = getattr(self, "_" + field)
        return handler()

    def plain(self) -> str:
        return _text(self.chars)

    def _name(self) -> Term:
        return FieldMatch("name", self.plain())

    def _id(self) -> Term:
        return FieldMatch("id", self.plain())

    def _parent(self) -> Term:
        return FieldMatch("parent", self.plain())

    def _experiment(self) -> Term:
        return FieldMatch("experiment", self.plain())

    def _host(self) -> Term:
        return FieldMatch("host", self.plain())

    def _user(self) -> Term:
        return FieldMatch("user", self.plain())

    def _kind(self) -> Term:
        kind = self.plain().lower()
        if kind not in KINDS:
            raise self.error(self.pos, f"unknown run kind {self.plain()!r}; use one of {', '.join(KINDS)}")
        return FieldMatch("kind", kind)

    def _status(self) -> Term:
        wanted: set[RunStatus] = set()
        lo = 0
        while True:
            comma = _find(self.chars[lo:], ",")
            hi = len(self.chars) if comma < 0 else lo + comma
            item = _text(self.chars[lo:hi])
            at = self.chars[lo][1] if hi > lo else self.end_of(lo, hi)
            if not item:
                raise self.error(at, "empty status name in the list (write status:running,queued)")
            alias = _STATUS_ALIASES.get(item.lower())
            if alias is not None:
                wanted.update(alias)
            else:
                try:
                    wanted.add(parse_status(item))
                except ValidationError:
                    names = ", ".join(s.value for s in RunStatus)
                    raise self.error(
                        at,
                        f"unknown status {item!r}; use one of {names}, or live / active (not finished), "
                        "or finished / done / ended (Completed, Failed, Canceled)",
                    ) from None
            if comma < 0:
                return StatusMatch(tuple(s for s in RunStatus if s in wanted))
            lo = hi + 1

    def _key_value(self, what: str) -> tuple[str, str | None]:
        eq = _find(self.chars, "=")
        key_end = len(self.chars) if eq < 0 else eq
        key = _text(self.chars[:key_end])
        if not key:
            at = self.chars[eq][1] if eq >= 0 else self.pos
            raise self.error(at, f"missing {what} key (write {self.field}:KEY or {self.field}:KEY=VALUE)")
        if eq < 0:
            return key, None
        if eq + 1 == len(self.chars) and not self.quoted_in(eq + 1, eq + 1):
            raise self.error(
                self.end_of(eq + 1, eq + 1),
                f"missing value after '=' (write {self.field}:{key} for any value, or {self.field}:{key}=\"\" "
                "for an empty one)",
            )
        return key, _text(self.chars[eq + 1 :])

    def _tag(self) -> Term:
        return TagMatch(*self._key_value("tag"))

    def _prop(self) -> Term:
        return PropertyMatch(*self._key_value("property"))

    def _metric(self) -> Term:
        at_op = _find(self.chars, _OP_CHARS)
        name = _text(self.chars if at_op < 0 else self.chars[:at_op])
        if not name:
            at = self.chars[at_op][1] if at_op >= 0 else self.pos
            raise self.error(at, f"missing metric name (write {self.field}:NAME or {self.field}:NAME<NUMBER)")
        if at_op < 0:
            return MetricMatch(name)
        end = at_op
        while end < len(self.chars) and not self.chars[end][2] and self.chars[end][0] in _OP_CHARS:
            end += 1
        written = _text(self.chars[at_op:end])
        op = _OPERATORS.get(written)
        if op is None:
            raise self.error(self.chars[at_op][1], f"unknown operator {written!r}; use one of < <= > >= = !=")
        number = _text(self.chars[end:])
        if not number:
            raise self.error(self.end_of(end, end), f"missing number after {written!r}")
        if not _NUMBER.fullmatch(number):
            raise self.error(self.chars[end][1], f"expected a number after {written!r}, found {number!r}")
        value = float(number)
        if not math.isfinite(value):
            raise self.error(self.chars[end][1], f"the number {number!r} is out of range")
        return MetricMatch(name, op, value)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- SQL

_run = run_table
_tag = tag_table
_prop = property_table
_summary = summary_table
_experiment = experiment_table

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Above this many operands, AND/OR lists are nested in groups: SQLite refuses expression trees deeper
# than 1000, and it parses a flat `a AND b AND ...` into one node per operand.
_FANOUT = 32
# Up to this many subquery terms (tag, prop, metric, experiment), PostgreSQL may join them (see _Unjoinable).
_JOIN_LIMIT = 4


class _fold(FunctionElement[str]):
    """Lower-case ASCII letters only, leaving every other character alone.

    SQLite's lower() folds only ASCII while PostgreSQL's folds all of Unicode; doing ASCII on both makes
    a filter match the same runs on either store.
    """

    type = String()
    name = "runtui_fold"
    inherit_cache = True


@compiles(_fold)
def _fold_lower(element: _fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_fold, "postgresql")
def _fold_translate(element: _fold, compiler: SQLCompiler, **kw: Any) -> str:
    upper, lower = string.ascii_uppercase, string.ascii_lowercase
    return f"translate({compiler.process(element.clauses, **kw)}, '{upper}', '{lower}')"


def _fold_text(value: str) -> str:
    return value.translate(_ASCII_LOWER)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, value: str) -> ColumnElement[bool]:
    return _fold(column).like("%" + _escape_like(_fold_text(value)) + "%", escape="\\")


def _starts_with(column: Any, value: str) -> ColumnElement[bool]:
    return _fold(column).like(_escape_like(_fold_text(value)) + "%", escape="\\")


class _Parens(ColumnElement[bool]):
    """A condition in parentheses that and_()/or_() keep as one operand (they flatten a plain Grouping)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition already: no `= 1` on SQLite
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy API)

    def __init__(self, inner: ColumnElement[bool]) -> None:
        self.inner = inner


@compiles(_Parens)
def _compile_parens(element: _Parens, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.inner, **kw)})"


def _combine(op: Callable[..., ColumnElement[bool]], clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    while len(clauses) > _FANOUT:
        clauses = [_Parens(op(*clauses[k : k + _FANOUT])) for k in range(0, len(clauses), _FANOUT)]
    return op(*clauses)


class _Unjoinable(ColumnElement[bool]):
    """`column IN (subquery)` that PostgreSQL evaluates as a hashed subplan instead of a semi-join.

    PostgreSQL turns every `IN (subquery)` under AND into a semi-join; past a dozen of them its join search
    (GEQO) takes seconds, and a long filter of `tag:` terms kept it planning for minutes. Inside coalesce()
    the planner cannot pull the subquery up: it runs it once and probes a hash per run, linear in any case.
    Other databases get the plain IN.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition already: no `= 1` on SQLite
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy API)

    def __init__(self, inner: ColumnElement[bool]) -> None:
        self.inner = inner


@compiles(_Unjoinable)
def _compile_unjoinable(element: _Unjoinable, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.inner, **kw)})"


@compiles(_Unjoinable, "postgresql")
def _compile_unjoinable_pg(element: _Unjoinable, compiler: SQLCompiler, **kw: Any) -> str:
    return f"coalesce({compiler.process(element.inner, **kw)}, false)"


class _IsNumber(ColumnElement[bool]):
    """A float column holds a number: not NULL, not NaN.

    SQLite stores NaN as NULL; PostgreSQL stores it and orders it above every number (and equal to
    itself), so without this `metric:loss>1` would match a NaN loss on PostgreSQL only.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition already: no `= 1` on SQLite
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy API)

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(_IsNumber)
def _compile_is_number(element: _IsNumber, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.column, **kw)} IS NOT NULL)"


@compiles(_IsNumber, "postgresql")
def _compile_is_number_pg(element: _IsNumber, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"({column} IS NOT NULL AND {column} <> 'NaN'::float8)"


def _uses_subquery(node: Term) -> bool:
    return isinstance(node, (TagMatch, PropertyMatch, MetricMatch)) or (
        isinstance(node, FieldMatch) and node.field == "experiment"
    )


class _ClauseBuilder:
    """Turns a tree into SQL. `unjoinable`: write subquery terms so that PostgreSQL does not join them."""

    def __init__(self, unjoinable: bool) -> None:
        self.unjoinable = unjoinable

    def member(self, column: Any, sub: Any) -> ColumnElement[bool]:
        inner: ColumnElement[bool] = column.in_(sub)
        return _Unjoinable(inner) if self.unjoinable else inner

    def build(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Not):
            return not_(self.build(node.operand))
        if isinstance(node, And):
            return _combine(and_, [self.build(o) for o in node.operands])
        if isinstance(node, Or):
            return _combine(or_, [self.build(o) for o in node.operands])
        return self.term(node)

    def term(self, node: Term) -> ColumnElement[bool]:
        c = _run.c
        if isinstance(node, TextMatch):
            return or_(
                _contains(func.coalesce(c.display_name, ""), node.text),
                _contains(c.id, node.text),
                _contains(c.experiment, node.text),
            )
        if isinstance(node, FieldMatch):
            return self.field(node)
        if isinstance(node, StatusMatch):
            return c.status.in_([s.value for s in node.statuses])
        if isinstance(node, (TagMatch, PropertyMatch)):
            table = _tag if isinstance(node, TagMatch) else _prop
            sub = select(table.c.run_id).where(table.c.key == node.key)
            if node.value is not None:
                sub = sub.where(table.c.value == node.value)
            return self.member(c.id, sub)
        sub = select(_summary.c.run_id).where(_summary.c.name == node.name)
        if node.op is not None and node.value is not None:
            last = _summary.c.last
            compare = {
                "<": last < node.value,
                "<=": last <= node.value,
                ">": last > node.value,
                ">=": last >= node.value,
                "=": last == node.value,
                "!=": last != node.value,
            }[node.op]
            sub = sub.where(_IsNumber(last), compare)
        return self.member(c.id, sub)

    def field(self, node: FieldMatch) -> ColumnElement[bool]:
        c = _run.c
        v = node.value
        if node.field == "name":
            # what RunRecord.name shows: the display name, or the id when it has none (or an empty one)
            return _contains(func.coalesce(func.nullif(c.display_name, ""), c.id), v)
        if node.field == "id":
            return _starts_with(c.id, v)
        if node.field == "parent":
            return and_(c.parent_id.is_not(None), _starts_with(c.parent_id, v))
        if node.field == "experiment":
            # Through the (small) experiment table, so that the run index on experiment does the rest.
            names = select(_experiment.c.name).where(_fold(_experiment.c.name) == _fold_text(v))
            return self.member(c.experiment, names)
        if node.field == "host":
            return _contains(c.host, v)
        if node.field == "user":
            return _fold(c.user) == _fold_text(v)
        return c.kind == v


def to_clause(node: Node) -> ColumnElement[bool]:
    """The SQL condition over the `run` table for a parsed filter."""
    subqueries = sum(1 for term in iter_terms(node) if _uses_subquery(term))
    return _ClauseBuilder(unjoinable=subqueries > _JOIN_LIMIT).build(node)


def compile_filter(text: str | None) -> ColumnElement[bool] | None:
    """The SQL condition for a filter, for `Store.query_runs(where=...)`; None for no filter.

    Raises FilterSyntaxError for a filter that does not parse.
    """
    node = parse_filter(text)
    return None if node is None else to_clause(node)
