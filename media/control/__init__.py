"""Call control: a call's states and one transition table, events in, actions out (no I/O)."""

from media.control.core import IGNORED, TABLE, CallControl, Rule
from media.control.records import (
    Awaiting,
    CallControlError,
    CallRecord,
    CallState,
    CallStateError,
    Deferred,
    DuplicateCall,
    LegRecord,
    PendingTransfer,
    UnknownCall,
    UnknownLeg,
    task_id_for,
)

__all__ = [
    "IGNORED",
    "TABLE",
    "Awaiting",
    "CallControl",
    "CallControlError",
    "CallRecord",
    "CallState",
    "CallStateError",
    "Deferred",
    "DuplicateCall",
    "LegRecord",
    "PendingTransfer",
    "Rule",
    "UnknownCall",
    "UnknownLeg",
    "task_id_for",
]
