"""The root of media/'s errors: each carries the SIP status that refuses what caused it."""

from __future__ import annotations


class MediaError(Exception):
    """Something a call or its media cannot do; `status` is the SIP response that says so."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
