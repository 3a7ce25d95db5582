"""The append-only event log: every decision of the queue core, numbered, with filters for the API.

Kept in memory by the embedded default; each entry is a plain `Decision`, the row durable history stores.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from acd.decisions import Decision


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    decision: Decision


class Journal:
    """Numbered decisions, oldest first; the oldest are dropped past `limit` entries."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._next_id = 1

    @property
    def next_id(self) -> int:
        return self._next_id

    def append(self, decisions: Iterable[Decision], first_id: int | None = None) -> list[Entry]:
        """Number and keep `decisions`; `first_id` continues a numbering kept elsewhere (a shared stream)."""
        if first_id is not None:
            if first_id < self._next_id:
                raise ValueError(f"event {first_id} comes after {self._next_id - 1}: the log only grows")
            self._next_id = first_id
        added = []
        for decision in decisions:
            entry = Entry(self._next_id, decision)
            self._next_id += 1
            self._entries.append(entry)
            added.append(entry)
        return added

    def query(
        self,
        *,
        queue: str | None = None,
        task: str | None = None,
        agent: str | None = None,
        kinds: frozenset[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Entry]:
        found = []
        for entry in self._entries:
            d = entry.decision
            if (
                entry.id > after_id
                and (queue is None or d.queue == queue)
                and (task is None or d.task == task)
                and (agent is None or d.agent == agent)
                and (kinds is None or d.kind.value in kinds)
                and (since is None or d.at >= since)
                and (until is None or d.at < until)
            ):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    def __len__(self) -> int:
        return len(self._entries)
