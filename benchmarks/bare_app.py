"""The baseline for benchmarks/ticket_create.py: a bare Flask + SQLAlchemy 2 + psycopg 3 insert.

One POST inserts one row into `bench_bare` (created by the benchmark before the server starts)
and answers 201 with JSON, with no authentication, validation framework or ORM: the least a
Python JSON-over-PostgreSQL endpoint on this stack costs. Serve it with
`BENCH_BARE_DATABASE_URL=postgresql+psycopg://… gunicorn benchmarks.bare_app:app`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, create_engine, insert

metadata = MetaData()
bench_bare = Table(
    "bench_bare",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# No connection is made until the first request, so each gunicorn worker gets its own.
engine = create_engine(os.environ.get("BENCH_BARE_DATABASE_URL", "postgresql+psycopg:///bench"))

app = Flask("bare")
app.json.ensure_ascii = False  # type: ignore[attr-defined]


@app.get("/health")
def health() -> Any:
    return {"ok": True}


@app.post("/bare")
def create() -> Any:
    body = request.get_json()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row_id = conn.execute(
            insert(bench_bare)
            .values(
                title=body["title"],
                priority=body.get("priority", "P3"),
                category=body.get("category", "other"),
                created_at=now,
            )
            .returning(bench_bare.c.id)
        ).scalar_one()
    return {
        "id": row_id,
        "number": f"BARE-{row_id:06d}",
        "title": body["title"],
        "priority": body.get("priority", "P3"),
        "created_at": now.isoformat(),
    }, 201
