"""Session timers (RFC 4028): a call whose dialog is not refreshed in time is over.

Pure. The caller's INVITE may ask for a session interval (Session-Expires, at least Min-SE); the ACD
agrees, or answers 422 when the interval is shorter than it accepts. The refresher is the caller when it
supports timers, else the ACD (§9); whoever it is, a session not refreshed by its deadline is ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from media.errors import MediaError
from media.sip.checks import Request

#: The shortest interval accepted (RFC 4028 §4: 90 seconds is the least a UA may ask for).
MIN_SE = 90
_INTERVAL = re.compile(r"\s*([0-9]{1,9})\s*(?:;(.*))?$")
_REFRESHER = re.compile(r"(?:^|;)\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)", re.IGNORECASE)


class IntervalTooSmall(MediaError):
    status = 422


class MalformedSessionExpires(MediaError):
    status = 400


@dataclass(frozen=True, slots=True)
class SessionTimer:
    interval: int  # seconds
    refresher: str  # "uac": the caller refreshes; "uas": the ACD does

    def headers(self) -> tuple[tuple[str, str], ...]:
        """What the 2xx says (§9): the interval, who refreshes, and Require: timer when the caller does."""
        agreed = (("session-expires", f"{self.interval};refresher={self.refresher}"),)
        return agreed + ((("require", "timer"),) if self.refresher == "uac" else ())

    def deadline(self, refreshed_at: float) -> float:
        """When the session is over without a refresh (§10: the interval less a third of it, at most 32 s)."""
        return refreshed_at + self.interval - min(32.0, self.interval / 3)

    def refresh_at(self, refreshed_at: float) -> float:
        """When the ACD, as refresher, sends its refresh: half the interval (§7.2)."""
        return refreshed_at + self.interval / 2


def negotiate(request: Request) -> SessionTimer | None:
    """The timer a request asks for; None when it asks for none; IntervalTooSmall (422) below MIN_SE."""
    value = request.first("session-expires")
    if value is None:
        return None
    match = _INTERVAL.match(value)
    if match is None:
        raise MalformedSessionExpires("malformed Session-Expires")
    interval = int(match.group(1))
    if interval < MIN_SE:
        raise IntervalTooSmall(f"Session-Expires {interval} is below {MIN_SE}")
    supported = {tag.strip().lower() for value in _all(request, "supported") for tag in value.split(",")}
    asked = _REFRESHER.search(match.group(2) or "")
    refresher = asked.group(1).lower() if asked else "uac"
    if "timer" not in supported:
        refresher = "uas"  # §9: a caller that does not support timers cannot be the refresher
    return SessionTimer(interval, refresher)


def _all(request: Request, name: str) -> list[str]:
    return [value for header, value in request.headers if header == name]
