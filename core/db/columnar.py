"""Query results as polars frames, column-wise: no Python object per row on PostgreSQL.

A product that tracks 100k players holds ~100M player-match rows; building frames from driver
rows (a tuple and a Python object per value) only works at demo scale. ``read_frame`` runs the
query as ``COPY (query) TO STDOUT`` on the session's own connection (same transaction, same
search_path) and lets polars parse the stream in bounded chunks, so memory holds the frame plus
one chunk and the work is in Rust.

Why COPY's text format and not binary: polars parses delimited text natively and in parallel,
while PostgreSQL's binary format would have to be decoded value by value in Python. The text
format is unambiguous: a row always ends with a newline (newlines, tabs and backslashes inside
values are backslash-escaped), NULL is ``\\N``, and text values carry a one-letter prefix so an
empty string is never read as NULL. Timestamps travel as epoch microseconds and
booleans as 0/1, so neither the server's TimeZone nor its DateStyle matters.

Other backends (SQLite in the embedded default set-up) read through the driver.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, TypeDecorator
from sqlalchemy import types as sa_types
from sqlalchemy.orm import Session

CHUNK_BYTES = 8 << 20
"""Bytes of COPY output parsed at a time: with the pieces' parse, the memory a load needs
beyond its frame (a few pieces, whatever the rows)."""

# COPY's text format escapes these as a backslash and a letter (and a backslash as two)
_ESCAPES = (
    ("\\b", "\b"),
    ("\\f", "\f"),
    ("\\n", "\n"),
    ("\\r", "\r"),
    ("\\t", "\t"),
    ("\\v", "\v"),
)


def _unescape(column: pl.Series) -> pl.Series:
    """COPY text escapes undone, vectorised (NUL cannot occur in PostgreSQL text: a safe
    stand-in for an escaped backslash while the others are replaced)."""
    out = column.str.replace_all("\\\\", "\x00", literal=True)
    for escaped, plain in _ESCAPES:
        out = out.str.replace_all(escaped, plain, literal=True)
    return out.str.replace_all("\x00", "\\", literal=True)


def _wire_type(dtype: pl.DataType) -> pl.DataType:
    """What a column of ``dtype`` is parsed as from the COPY text."""
    if isinstance(dtype, pl.Datetime) or dtype == pl.Boolean:
        return pl.Int64()
    return dtype


def _select_list(schema: Mapping[str, pl.DataType]) -> str:
    columns = []
    for name, dtype in schema.items():
        quoted = '"' + name.replace('"', '""') + '"'
        if isinstance(dtype, pl.Datetime):
            columns.append(f"(extract(epoch from q.{quoted}) * 1000000)::bigint")
        elif dtype == pl.Boolean:
            columns.append(f"q.{quoted}::int")
        elif dtype == pl.String:  # "s" || NULL is NULL: an empty field is then never NULL
            columns.append(f"'s' || q.{quoted}")
        else:
            columns.append(f"q.{quoted}")
    return ", ".join(columns)


def _finish(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    casts: list[pl.Expr | pl.Series] = []
    for name, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            stamp = pl.from_epoch(name, time_unit="us")
            if dtype.time_zone:
                stamp = stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
            casts.append(stamp.cast(dtype).alias(name))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Boolean))
        elif dtype == pl.String:
            text = frame[name].str.slice(1)
            if text.str.contains("\\", literal=True).any():
                text = _unescape(text)
            casts.append(text)
    return frame.with_columns(casts) if casts else frame


def _parse(data: bytes, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    if not data:
        return pl.DataFrame(schema=dict(schema))
    wire = {name: _wire_type(dtype) for name, dtype in schema.items()}
    frame = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\t",
        quote_char=None,
        null_values="\\N",
        schema=wire,
    )
    return _finish(frame, schema)


def polars_type(column: ColumnElement[Any]) -> pl.DataType:
    """The polars type a column of the product's schema loads as (integers as Int64, the
    loaders' convention; our UTC datetimes as Datetime("us", "UTC"))."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa_types.Boolean):
        return pl.Boolean()
    if isinstance(kind, sa_types.Integer):
        return pl.Int64()
    if isinstance(kind, sa_types.Float | sa_types.Numeric):
        return pl.Float64()
    if isinstance(kind, sa_types.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(kind, sa_types.String):
        return pl.String()
    raise TypeError(f"no polars type for column {column} of type {column.type!r}")


def schema_of(columns: Sequence[ColumnElement[Any]]) -> dict[str, pl.DataType]:
    """``{name: polars type}`` of labelled or table columns, in their order."""
    return {str(c.key): polars_type(c) for c in columns}


def order_list(schema: Mapping[str, pl.DataType], sort: Sequence[str]) -> str:
    """ORDER BY terms (over the subquery ``q``) that order rows as polars' ``sort(sort)``
    does: strings by their bytes (COLLATE "C", whatever the database's collation), nulls
    first."""
    terms = []
    for name in sort:
        quoted = 'q."' + name.replace('"', '""') + '"'
        collate = ' COLLATE "C"' if schema[name] == pl.String else ""
        terms.append(f"{quoted}{collate} NULLS FIRST")
    return ", ".join(terms)


def read_frame(
    session: Session,
    statement: Select[Any],
    schema: Mapping[str, pl.DataType],
    *,
    sort: Sequence[str] = (),
    chunk_bytes: int | None = None,
) -> pl.DataFrame:
    """The rows of ``statement`` as a frame with exactly ``schema`` (the statement's columns,
    labelled with the schema's names, in its order). With ``sort`` (schema column names) the
    frame equals ``frame.sort(sort)``; on PostgreSQL the server sorts (ORDER BY), so the
    client never holds a second copy of the frame.

    On PostgreSQL the COPY stream is cut into ``chunk_bytes`` pieces (:data:`CHUNK_BYTES`
    when None) that a second thread parses (polars releases the GIL) while this one reads the
    next: the server's work, the wire and the parse overlap, at most two pieces are held
    besides the frame, and the parsed pieces become the frame's chunks (no copy)."""
    unknown = [name for name in sort if name not in schema]
    if unknown:
        raise ValueError(f"sort columns not in the schema: {unknown}")
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        rows = connection.execute(statement).all()
        frame = pl.DataFrame(
            [tuple(r) for r in rows], schema=dict(schema), orient="row", infer_schema_length=None
        )
        return frame.sort(list(sort)) if sort else frame
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    order = f" ORDER BY {order_list(schema, sort)}" if sort else ""
    # the column names come from code (the schema), quoted; values are bound by psycopg
    sql = f"COPY (SELECT {_select_list(schema)} FROM ({compiled}) AS q{order}) TO STDOUT"  # noqa: S608
    raw = connection.connection.driver_connection
    assert raw is not None
    frames: list[pl.DataFrame] = []
    buffer = bytearray()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-parse") as parser:
        pending: Future[pl.DataFrame] | None = None
        with raw.cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
            for data in copy:
                buffer += data
                if len(buffer) < chunk_bytes:
                    continue
                cut = buffer.rfind(b"\n") + 1
                piece = bytes(buffer[:cut])
                del buffer[:cut]
                if pending is not None:  # bounded: one piece parsing, one being read
                    frames.append(pending.result())
                pending = parser.submit(_parse, piece, schema)
        if pending is not None:
            frames.append(pending.result())
    if buffer or not frames:
        frames.append(_parse(bytes(buffer), schema))
    # the pieces as the frame's chunks: a rechunk would hold the frame twice
    return pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]
