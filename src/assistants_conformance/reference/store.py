"""SQLite persistence for every Assistants object, as JSON documents with a stable order.

All access happens on the server's event-loop thread and every method runs to completion
without awaiting, so requests are serialised: no lost updates and no "database is locked",
however many clients are connected. `seq` (an autoincrement) orders lists, which keeps
pagination stable when many objects share a `created_at` second.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL,
    parent    TEXT,
    thread_id TEXT,
    run_id    TEXT,
    body      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (kind, parent, seq);
CREATE INDEX IF NOT EXISTS objects_by_thread ON objects (thread_id);
"""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, before it is wrapped in the list envelope."""

    items: list[dict[str, Any]]
    has_more: bool


class Store:
    """Objects keyed by id, grouped by kind and parent (thread for messages/runs, run for steps)."""

    def __init__(self, path: Path | None = None) -> None:
        target = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def insert(
        self,
        kind: str,
        body: dict[str, Any],
        *,
        parent: str | None = None,
        thread_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        self._db.execute(
            "INSERT INTO objects (id, kind, parent, thread_id, run_id, body) VALUES (?, ?, ?, ?, ?, ?)",
            (body["id"], kind, parent, thread_id, run_id, json.dumps(body)),
        )
        return body

    def get(self, kind: str, object_id: str, *, parent: str | None = None) -> dict[str, Any] | None:
        if parent is None:
            row = self._db.execute("SELECT body FROM objects WHERE id = ? AND kind = ?", (object_id, kind)).fetchone()
        else:
            row = self._db.execute(
                "SELECT body FROM objects WHERE id = ? AND kind = ? AND parent = ?", (object_id, kind, parent)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        self._db.execute("UPDATE objects SET body = ? WHERE id = ?", (json.dumps(body), body["id"]))
        return body

    def set_run_id(self, object_id: str, run_id: str) -> None:
        self._db.execute("UPDATE objects SET run_id = ? WHERE id = ?", (run_id, object_id))

    def delete(self, object_id: str) -> None:
        self._db.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def delete_thread(self, thread_id: str) -> None:
        """The thread and everything in it: messages, runs and their steps."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM objects WHERE thread_id = ? OR id = ?", (thread_id, thread_id))

    def children(self, kind: str, parent: str) -> Iterable[dict[str, Any]]:
        """All objects of a kind under a parent, oldest first."""
        rows = self._db.execute("SELECT body FROM objects WHERE kind = ? AND parent = ? ORDER BY seq", (kind, parent))
        return [json.loads(row[0]) for row in rows]

    def list(
        self,
        kind: str,
        *,
        parent: str | None,
        limit: int,
        order: str,
        after: str | None = None,
        before: str | None = None,
        run_id: str | None = None,
    ) -> Page:
        """A page in `order` of creation; `after`/`before` are ids of the same list.

        An unknown cursor gives an empty page (it names no position in this list).
        """
        where = ["kind = ?", "parent IS ?"]
        args: list[Any] = [kind, parent]
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        for cursor, newer in ((after, order == "asc"), (before, order != "asc")):
            if cursor is None:
                continue
            seq = self._seq(kind, parent, cursor)
            if seq is None:
                return Page([], False)
            where.append("seq > ?" if newer else "seq < ?")
            args.append(seq)
        # Walking away from `before` means reading the list backwards, then restoring its order.
        backwards = before is not None and after is None
        ascending = (order == "asc") != backwards
        sql = (
            f"SELECT body FROM objects WHERE {' AND '.join(where)} "
            f"ORDER BY seq {'ASC' if ascending else 'DESC'} LIMIT ?"
        )
        rows = self._db.execute(sql, (*args, limit + 1)).fetchall()
        items = [json.loads(row[0]) for row in rows[:limit]]
        if backwards:
            items.reverse()
        return Page(items, len(rows) > limit)

    def _seq(self, kind: str, parent: str | None, object_id: str) -> int | None:
        row = self._db.execute(
            "SELECT seq FROM objects WHERE id = ? AND kind = ? AND parent IS ?",
            (object_id, kind, parent),
        ).fetchone()
        return int(row[0]) if row else None

    def expire_interrupted(self, now: int) -> int:
        """Runs still active and steps still in progress (from a process that stopped) expire."""
        with self._db:
            self._db.execute("BEGIN")
            runs = self._db.execute(
                "UPDATE objects SET body = json_set(body, '$.status', 'expired', '$.required_action', json('null'), "
                "'$.usage', json_object('prompt_tokens', 0, 'completion_tokens', 0, 'total_tokens', 0)) "
                "WHERE kind = 'run' AND json_extract(body, '$.status') IN "
                "('queued', 'in_progress', 'requires_action', 'cancelling')"
            ).rowcount
            self._db.execute(
                "UPDATE objects SET body = json_set(body, '$.status', 'expired', '$.expired_at', ?, "
                "'$.usage', json_object('prompt_tokens', 0, 'completion_tokens', 0, 'total_tokens', 0)) "
                "WHERE kind = 'step' AND json_extract(body, '$.status') = 'in_progress'",
                (now,),
            )
        return int(runs)

    def active_run(self, thread_id: str) -> dict[str, Any] | None:
        """The thread's run that has not reached a terminal status, if any."""
        row = self._db.execute(
            "SELECT body FROM objects WHERE kind = 'run' AND parent = ? AND "
            "json_extract(body, '$.status') IN ('queued', 'in_progress', 'requires_action', 'cancelling') "
            "ORDER BY seq DESC LIMIT 1",
            (thread_id,),
        ).fetchone()
        return json.loads(row[0]) if row else None
