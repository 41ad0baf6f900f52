"""Reading an MLflow tracking store directly: its database tables (SQLite, PostgreSQL, MySQL) or its file layout.

Directly, not through MlflowClient: the client pages metric histories one key of one run at a time through
entity objects (measured: see `runtui import mlflow`'s docs), while one ordered SELECT (or one file read) per run
streams every point. MLflow itself is not needed; the file store's `meta.yaml` files need PyYAML.

What is read: experiments, runs (deleted ones are skipped), params, tags and every metric point. Times stay as MLflow
keeps them (epoch milliseconds) until the importer converts them.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from runtui.errors import NotFoundError, RuntuiError

# MLflow's file store writes run statuses as numbers (mlflow.entities.RunStatus)
FILE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
REQUIRED_TABLES = ("experiments", "runs", "metrics", "params", "tags")
IN_CHUNK = 500
CHUNK = 50_000  # metric rows fetched at a time


class MlflowStoreError(RuntuiError):
    """The MLflow store cannot be read: missing, not an MLflow store, or damaged."""


@dataclass(frozen=True)
class MlflowExperiment:
    id: str
    name: str
    created_ms: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MlflowRun:
    id: str
    experiment_id: str
    name: str | None
    status: str  # RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
    start_ms: int | None
    end_ms: int | None
    user: str | None
    artifact_uri: str | None


# One metric point: (key, step, value, timestamp ms, is_nan)
Point = tuple[str, int, float, int, bool]


class Source(Protocol):
    description: str

    def experiments(self) -> list[MlflowExperiment]: ...

    def runs(self) -> list[MlflowRun]: ...

    def params(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]: ...

    def tags(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]: ...

    def metric_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]: ...

    def points(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Point]: ...

    def point_chunks(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Sequence[Point]]: ...

    def resolve_artifacts(self, run: MlflowRun) -> Path | None: ...

    def close(self) -> None: ...


def open_source(uri: str) -> Source:
    """The MLflow store at `uri`: `sqlite:///path.db`, `postgresql://...`, `mysql://...`, `file:///path/mlruns`, or a
    path (an `mlruns` folder or an MLflow SQLite file)."""
    uri = uri.strip()
    if not uri:
        raise MlflowStoreError("--from needs an MLflow tracking URI or path")
    scheme = uri.split(":", 1)[0].lower() if "://" in uri or uri.startswith("sqlite:") else ""
    if scheme.startswith("sqlite"):
        rest = uri.split("://", 1)[1]
        rest = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel.db and sqlite:////abs.db
        return SqliteSource(Path(unquote(rest)))
    if scheme.startswith(("postgresql", "postgres", "mysql", "mssql")):
        return SqlSource(uri)
    if scheme == "file":
        return FileSource(Path(unquote(urlparse(uri).path)))
    if scheme:
        raise MlflowStoreError(
            f"cannot read an MLflow store at {scheme}:// directly; use its database URI (sqlite:///, postgresql://) "
            "or its mlruns folder"
        )
    path = Path(uri).expanduser()
    if path.is_dir():
        return FileSource(path)
    if path.is_file():
        return SqliteSource(path)
    raise NotFoundError(f"no MLflow store at {uri}: no such file or folder")


# ---------------------------------------------------------------------------------------------------------- SQL


class _SqlBase:
    """The MLflow tables, read with plain SQL through a DB-API connection (`?` or `%s` placeholders)."""

    description: str
    _mark: str
    _root: Path | None = None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _chunks(self, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Point]]:
        raise NotImplementedError

    def _columns(self, table: str) -> set[str]:
        raise NotImplementedError

    def _check_tables(self, present: set[str]) -> None:
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise MlflowStoreError(
                f"{self.description} is not an MLflow tracking database (no table {', '.join(missing)})"
            )
        self._run_cols = self._columns("runs")
        self._exp_cols = self._columns("experiments")
        self._metric_cols = self._columns("metrics")

    def _in(self, n: int) -> str:
        return ", ".join([self._mark] * n)

    def experiments(self) -> list[MlflowExperiment]:
        created = "creation_time" if "creation_time" in self._exp_cols else "NULL"
        stage = "lifecycle_stage" if "lifecycle_stage" in self._exp_cols else "'active'"
        rows = self._query(f"SELECT experiment_id, name, {created}, {stage} FROM experiments ORDER BY experiment_id")
        tags: dict[str, dict[str, str]] = {}
        try:
            for eid, key, value in self._query("SELECT experiment_id, key, value FROM experiment_tags"):
                tags.setdefault(str(eid), {})[key] = value
        except Exception:  # experiment_tags came with MLflow 1.x; older stores have none
            tags = {}
        return [
            MlflowExperiment(str(eid), name, _int(ct), tags.get(str(eid), {}))
            for eid, name, ct, st in rows
            if st != "deleted"
        ]

    def runs(self) -> list[MlflowRun]:
        name = "name" if "name" in self._run_cols else "NULL"
        stage = "lifecycle_stage" if "lifecycle_stage" in self._run_cols else "'active'"
        rows = self._query(
            f"SELECT run_uuid, experiment_id, {name}, status, start_time, end_time, user_id, artifact_uri, {stage} "
            "FROM runs ORDER BY start_time, run_uuid"
        )
        return [
            MlflowRun(r[0], str(r[1]), r[2], r[3] or "FINISHED", _int(r[4]), _int(r[5]), r[6], r[7])
            for r in rows
            if r[8] != "deleted"
        ]

    def _per_run(self, sql: str, run_ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        ids = list(run_ids)
        for i in range(0, len(ids), IN_CHUNK):
            chunk = ids[i : i + IN_CHUNK]
            yield from self._query(sql.format(marks=self._in(len(chunk))), chunk)

    def params(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        for rid, key, value in self._per_run(
            "SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks})", run_ids
        ):
            out[rid][key] = value
        return out

    def tags(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {rid: {} for rid in run_ids}
        for rid, key, value in self._per_run(
            "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks})", run_ids
        ):
            out[rid][key] = value
        return out

    def metric_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {rid: {} for rid in run_ids}
        sql = "SELECT run_uuid, key, COUNT(*) FROM metrics WHERE run_uuid IN ({marks}) GROUP BY run_uuid, key"
        for rid, key, n in self._per_run(sql, run_ids):
            out[rid][key] = int(n)
        return out

    def points(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Point]:
        for chunk in self.point_chunks(run_id, keys):
            yield from chunk

    def point_chunks(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Sequence[Point]]:
        """The run's points in chunks, as the driver returns them: (key, step, value, timestamp ms, is_nan)."""
        step = "step" if "step" in self._metric_cols else "0"
        is_nan = "is_nan" if "is_nan" in self._metric_cols else "0"
        sql = f"SELECT key, {step}, value, timestamp, {is_nan} FROM metrics WHERE run_uuid = {self._mark}"
        params: list[Any] = [run_id]
        if keys is not None:
            sql += f" AND key IN ({self._in(len(keys))})"
            params += list(keys)
        # Per key in logging order (MLflow keeps no insertion order: time, then step, is the closest).
        sql += " ORDER BY key, timestamp, step"
        return self._chunks(sql, params)

    def resolve_artifacts(self, run: MlflowRun) -> Path | None:
        return _local_artifacts(run.artifact_uri, self._root)


class SqliteSource(_SqlBase):
    """An MLflow SQLite database, opened read-only (the importer never writes to the source)."""

    _mark = "?"

    def __init__(self, path: Path) -> None:
        self.description = f"sqlite:///{path}"
        if not path.is_file():
            raise NotFoundError(f"no MLflow database at {path}: no such file")
        self._root = path.resolve().parent
        try:
            self._conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, check_same_thread=False)
            present = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise MlflowStoreError(f"{path} is not a readable SQLite database ({exc})") from None
        self._check_tables(present)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise MlflowStoreError(f"reading {self.description} failed: {exc}") from None

    def _chunks(self, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Point]]:
        try:
            cur = self._conn.execute(sql, tuple(params))
            while rows := cur.fetchmany(CHUNK):
                yield rows
        except sqlite3.DatabaseError as exc:
            raise MlflowStoreError(f"reading {self.description} failed: {exc}") from None

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self._query(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self._conn.close()


class SqlSource(_SqlBase):
    """An MLflow database on a server (PostgreSQL, MySQL), through SQLAlchemy's engine and the DB-API cursor."""

    def __init__(self, uri: str) -> None:
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.exc import SQLAlchemyError

        from runtui.store.engine import redact

        self.description = redact(uri)
        url = uri
        if uri.startswith(("postgresql://", "postgres://")):
            # MLflow's URIs name no driver (psycopg2 by default); runtui's PostgreSQL extra installs psycopg 3.
            try:
                import psycopg2  # noqa: F401
            except ImportError:
                url = "postgresql+psycopg://" + uri.split("://", 1)[1]
        try:
            self._engine = create_engine(url)
            self._conn = self._engine.connect()
            self._inspector = inspect(self._conn)
            present = set(self._inspector.get_table_names())
        except (SQLAlchemyError, ImportError) as exc:
            raise MlflowStoreError(f"cannot open the MLflow database {self.description}: {exc}") from None
        self._mark = "%s"
        self._check_tables(present)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return [tuple(r) for r in self._conn.exec_driver_sql(sql, tuple(params)).fetchall()]
        except SQLAlchemyError as exc:
            self._conn.rollback()
            raise MlflowStoreError(f"reading {self.description} failed: {exc}") from None

    def _chunks(self, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Point]]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            result = self._conn.exec_driver_sql(sql, tuple(params))
            while rows := result.fetchmany(CHUNK):
                yield [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        except SQLAlchemyError as exc:
            self._conn.rollback()
            raise MlflowStoreError(f"reading {self.description} failed: {exc}") from None

    def _columns(self, table: str) -> set[str]:
        return {c["name"] for c in self._inspector.get_columns(table)}

    def close(self) -> None:
        self._conn.close()
        self._engine.dispose()


# ---------------------------------------------------------------------------------------------------------- files


class FileSource:
    """An MLflow file store (`mlruns/`): <experiment id>/meta.yaml, <experiment id>/<run id>/{meta.yaml, params/,
    tags/, metrics/, artifacts/}. Deleted experiments and runs (in `.trash`, or marked deleted) are skipped."""

    def __init__(self, root: Path) -> None:
        self.description = f"file://{root}"
        if not root.is_dir():
            raise NotFoundError(f"no MLflow store at {root}: no such folder")
        try:
            import yaml
        except ImportError:
            raise MlflowStoreError("reading an MLflow file store needs PyYAML: pip install 'runtui[mlflow]'") from None
        self._yaml = yaml
        self.root = root
        metas = sorted(p for p in root.glob("*/meta.yaml") if not p.parent.name.startswith("."))
        if not metas:
            raise MlflowStoreError(f"{root} is not an MLflow file store (no <experiment>/meta.yaml in it)")
        self._run_dirs: dict[str, Path] = {}

    def _meta(self, path: Path) -> dict[str, Any]:
        try:
            data = self._yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, self._yaml.YAMLError) as exc:
            raise MlflowStoreError(f"{path}: unreadable ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise MlflowStoreError(f"{path}: not an MLflow meta.yaml (empty or not a mapping)")
        return data

    def experiments(self) -> list[MlflowExperiment]:
        out = []
        for meta in sorted(self.root.glob("*/meta.yaml")):
            if meta.parent.name.startswith("."):
                continue
            data = self._meta(meta)
            if data.get("lifecycle_stage") == "deleted":
                continue
            tags = self._kv_dir(meta.parent / "tags")
            out.append(
                MlflowExperiment(
                    str(data.get("experiment_id", meta.parent.name)),
                    str(data.get("name", meta.parent.name)),
                    _int(data.get("creation_time")),
                    {k: v or "" for k, v in tags.items()},
                )
            )
        return out

    def runs(self) -> list[MlflowRun]:
        out = []
        for exp in self.experiments():
            for meta in sorted((self.root / exp.id).glob("*/meta.yaml")):
                data = self._meta(meta)
                if data.get("lifecycle_stage") == "deleted":
                    continue
                run_id = str(data.get("run_id") or data.get("run_uuid") or meta.parent.name)
                status = data.get("status", 3)
                status = FILE_STATUS.get(status, str(status)) if isinstance(status, int) else str(status)
                self._run_dirs[run_id] = meta.parent
                out.append(
                    MlflowRun(
                        run_id,
                        exp.id,
                        data.get("run_name") or None,
                        status,
                        _int(data.get("start_time")),
                        _int(data.get("end_time")),
                        data.get("user_id"),
                        data.get("artifact_uri"),
                    )
                )
        out.sort(key=lambda r: (r.start_ms or 0, r.id))
        return out

    def _dir(self, run_id: str) -> Path:
        if not self._run_dirs:
            self.runs()
        try:
            return self._run_dirs[run_id]
        except KeyError:
            raise MlflowStoreError(f"run {run_id} is not in {self.description}") from None

    @staticmethod
    def _files(folder: Path) -> Iterator[tuple[str, Path]]:
        """(key, file) for every file below `folder`: keys with '/' are nested folders in the file store."""
        if not folder.is_dir():
            return
        for dirpath, _dirs, files in os.walk(folder):
            for f in files:
                p = Path(dirpath) / f
                yield p.relative_to(folder).as_posix(), p

    def _kv_dir(self, folder: Path) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for key, p in self._files(folder):
            try:
                out[key] = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise MlflowStoreError(f"{p}: unreadable ({exc})") from None
        return out

    def params(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        return {rid: {k: v or "" for k, v in self._kv_dir(self._dir(rid) / "params").items()} for rid in run_ids}

    def tags(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        return {rid: self._kv_dir(self._dir(rid) / "tags") for rid in run_ids}

    def metric_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for rid in run_ids:
            counts = out[rid] = {}
            for key, p in self._files(self._dir(rid) / "metrics"):
                data = p.read_bytes()
                counts[key] = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        return out

    def points(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Point]:
        for chunk in self.point_chunks(run_id, keys):
            yield from chunk

    def point_chunks(self, run_id: str, keys: Sequence[str] | None = None) -> Iterator[Sequence[Point]]:
        """One chunk per metric file, in MLflow's order (time, then step)."""
        wanted = None if keys is None else set(keys)
        for key, p in sorted(self._files(self._dir(run_id) / "metrics")):
            if wanted is not None and key not in wanted:
                continue
            rows = []
            with open(p, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    parts = line.split()
                    if not parts:
                        continue
                    try:
                        ts = int(parts[0])
                        value = float(parts[1])
                        step = int(parts[2]) if len(parts) > 2 else 0
                    except (ValueError, IndexError):
                        raise MlflowStoreError(f"{p}, line {n}: not a metric point ({line.strip()[:60]!r})") from None
                    rows.append((ts, step, value))
            rows.sort(key=lambda r: (r[0], r[1]))
            yield [(key, step, value, ts, math.isnan(value)) for ts, step, value in rows]

    def resolve_artifacts(self, run: MlflowRun) -> Path | None:
        return _local_artifacts(run.artifact_uri, self.root)

    def close(self) -> None:
        pass


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _local_artifacts(uri: str | None, root: Path | None) -> Path | None:
    """The run's artifact folder when it is on this machine; None for remote ones (s3://, mlflow-artifacts:, ...)."""
    if not uri:
        return None
    if uri.startswith("file:"):
        path = Path(unquote(urlparse(uri).path))
    elif "://" in uri or (":" in uri.split("/", 1)[0] and not Path(uri).is_absolute()):
        return None
    else:
        path = Path(uri)
        if not path.is_absolute() and root is not None:
            path = root / path
    return path
