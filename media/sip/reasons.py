"""The reason phrases of the SIP statuses the ACD sends (RFC 3261 §21 and the RFCs that added some)."""

from __future__ import annotations

_PHRASES = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    202: "Accepted",  # RFC 3515 §2.4.2
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    422: "Session Interval Too Small",  # RFC 4028 §6
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    513: "Message Too Large",
    603: "Decline",
}
_CLASSES = {1: "Trying", 2: "OK", 3: "Redirected", 4: "Request Failure", 5: "Server Failure", 6: "Global Failure"}


def reason(status: int, note: str = "") -> str:
    """The phrase of `status` (its class's for one not listed), `note` after it in brackets if given."""
    phrase = _PHRASES.get(status) or _CLASSES.get(status // 100, "Unknown")
    return f"{phrase} ({note})" if note else phrase
