"""The root of ivr's exceptions, and the error of an event a flow's state does not take."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr._states import FlowState
    from ivr.events import Event


class IvrError(Exception):
    """Everything ivr raises on purpose derives from this."""


class FlowStateError(IvrError, ValueError):
    """An event the session's state does not take (h11's LocalProtocolError): the session is unchanged."""

    def __init__(self, state: FlowState, event: Event, why: str = "not expected") -> None:
        super().__init__(f"{event!r} {why} in state {state.value}")
        self.state = state
        self.event = event
