"""The queue core's exceptions. Each carries the HTTP status and the kebab-case id the API renders."""

from __future__ import annotations

from typing import Any


class AcdError(Exception):
    """Root of the queue core's errors: the request was refused and nothing changed."""

    status_code = 400
    error_id = "acd-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidEvent(AcdError):
    status_code = 422
    error_id = "invalid-event"


class UnknownTask(AcdError):
    status_code = 404
    error_id = "unknown-task"


class UnknownAgent(AcdError):
    status_code = 404
    error_id = "unknown-agent"


class UnknownQueue(AcdError):
    status_code = 404
    error_id = "unknown-queue"


class DuplicateTask(AcdError):
    status_code = 409
    error_id = "duplicate-task"


class TransitionError(AcdError):
    """An event that the current state does not allow; names the state and the event."""

    status_code = 409
    error_id = "invalid-transition"


class NotYourOffer(AcdError):
    status_code = 409
    error_id = "not-your-offer"


class ChannelNotServed(AcdError):
    status_code = 422
    error_id = "channel-not-served"


class NoRecording(AcdError):
    status_code = 404
    error_id = "no-recording"


class NoRoute(AcdError):
    """A transfer's target is neither a queue, nor a number that leads to one, nor (with a trunk) an outside
    number."""

    status_code = 404
    error_id = "unknown-target"


class TransferRefused(AcdError):
    """The target queue would not take the task now: `details["reason"]` is `closed`, `queue_full`,
    `no_queue_to_take_it` or `channel_not_served`. The task stays where it was."""

    status_code = 409
    error_id = "transfer-refused"
