"""The store's generated Core tables (runtui/store/tables.py) are exactly the SQLModel tables of runtui.models,
and opening the store loads neither sqlmodel nor pydantic nor the ORM (the point of generating them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from runtui.store import codegen, tables

ROOT = Path(__file__).resolve().parents[2]


def test_tables_py_is_what_the_models_generate() -> None:
    assert Path(tables.__file__).read_text() == codegen.render(), "run: python -m runtui.store.codegen"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_generated_tables_have_the_models_ddl(dialect: Dialect) -> None:
    from runtui import models

    assert [t.name for t in tables.TABLES] == [t.name for t in models.TABLES]
    assert tables.SCHEMA_VERSION == models.SCHEMA_VERSION
    for mine, theirs in zip(tables.TABLES, models.TABLES, strict=True):
        assert str(CreateTable(mine).compile(dialect=dialect)) == str(CreateTable(theirs).compile(dialect=dialect))
        ddl = {str(CreateIndex(ix).compile(dialect=dialect)) for ix in mine.indexes}
        assert ddl == {str(CreateIndex(ix).compile(dialect=dialect)) for ix in theirs.indexes}
        for a, b in zip(mine.columns, theirs.columns, strict=True):  # Python-side defaults are not in the DDL
            assert (a.name, getattr(a.default, "arg", None)) == (b.name, getattr(b.default, "arg", None))


def test_opening_the_store_skips_sqlmodel_pydantic_and_the_orm(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from runtui.store.store import open_store\n"
        f"open_store({f'sqlite:///{tmp_path}/s.db'!r}).ensure_experiment('e')\n"
        "print(json.dumps(sorted(m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []
