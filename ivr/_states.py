"""The states a flow's session goes through, and what an event is to the session (its trigger).

A session is in one `FlowState` at a time; `TRANSITIONS`, below, is the one table of which triggers each
state takes and what each does: the name of the `ivr.interpreter.Session` method that takes the step
(resolved when ivr.interpreter is imported, so that a name without its method fails at once). A trigger is
an event's type, except for the two events that carry a token: a `PromptFinished` or `TimerFired` is only
news when its token is the one the session waits for (the prompt being said, the node's timer, the queue's
maximum wait); with an older token it is stale, and every state ignores it (a prompt cut short or a timer
replaced still reports: the queue core's stale timers are recognised the same way, acd/routing/places.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ivr import events as ev


class FlowState(StrEnum):
    """Where a session stands; one node kind may have several (a queue: entering, announcing...)."""

    IDLE = "idle"  # the call is not answered yet
    PLAYING = "playing"  # a play node says its prompts
    MENU = "menu"  # a menu asks, or waits for its key
    COLLECT = "collect"  # an entry asks, or waits for its digits
    ENTERING = "entering"  # the call is being queued (Enqueue asked)
    ANNOUNCING = "announcing"  # the queue's hold prompt, place, wait or call-back offer being said
    WAITING = "waiting"  # music in the queue until the next announcement or an agent
    BOOKING = "booking"  # a call-back requested (RequestCallback), its answer awaited
    CALLBACK_NUMBER = "callback_number"  # the caller types the number to call back
    CALLBACK_CONFIRM = "callback_confirm"  # the call-back is booked: its confirmation said, then hang up
    TRANSFER_PROMPT = "transfer_prompt"  # the words before a transfer
    TRANSFERRING = "transferring"  # Transfer asked: Connected or TransferFailed awaited
    VOICEMAIL_PROMPT = "voicemail_prompt"  # the invitation to leave a message
    RECORDING = "recording"  # the message is being recorded
    RECORDED = "recorded"  # StopRecording asked: the message's Recorded awaited
    GOODBYE = "goodbye"  # the last words before hanging up
    ENDED = "ended"  # final: hung up, connected, called back, or the caller left


class Trigger(StrEnum):
    """What an event is to the session: its type, and for a token, whether it is the one awaited."""

    CALL_STARTED = "call started"
    DIGIT = "digit"
    PROMPT_FINISHED = "prompt finished"  # the prompt being said
    STALE_PROMPT = "stale prompt"  # a prompt replaced or stopped
    TIMER = "timer"  # the node's timer (a menu's or an entry's wait, a message's length)
    MAX_WAIT = "max wait"  # the queue's maximum wait
    STALE_TIMER = "stale timer"  # a timer replaced or no longer wanted
    QUEUE_UPDATE = "queue update"
    QUEUE_REFUSED = "queue refused"
    CONNECTED = "connected"
    TRANSFER_FAILED = "transfer failed"
    CALLBACK_BOOKED = "callback booked"
    CALLBACK_FAILED = "callback failed"
    RECORDED = "recorded"
    HUNG_UP = "hung up"


#: The trigger of each event type that carries no token.
EVENT_TRIGGERS: dict[type, Trigger] = {
    ev.CallStarted: Trigger.CALL_STARTED,
    ev.Digit: Trigger.DIGIT,
    ev.QueueUpdate: Trigger.QUEUE_UPDATE,
    ev.QueueRefused: Trigger.QUEUE_REFUSED,
    ev.Connected: Trigger.CONNECTED,
    ev.TransferFailed: Trigger.TRANSFER_FAILED,
    ev.CallbackBooked: Trigger.CALLBACK_BOOKED,
    ev.CallbackFailed: Trigger.CALLBACK_FAILED,
    ev.Recorded: Trigger.RECORDED,
    ev.CallerHungUp: Trigger.HUNG_UP,
}

_T = Trigger

#: What each state does with each trigger; a pair missing here raises FlowStateError. `_ignore` marks
#: what a state takes and lets pass: the caller's keys where no key means anything (the caller may press
#: one at any time), the queue's news once the caller is busy with a call-back, and, in ENDED, what a
#: driver still delivers after the flow's end (events already on their way, the caller's hang-up after
#: an agent answered). A stale prompt or timer is ignored in every state but IDLE (no token given yet).
_STEPS: dict[FlowState, dict[Trigger, str]] = {
    FlowState.IDLE: {_T.CALL_STARTED: "_start", _T.HUNG_UP: "_caller_left"},
    FlowState.PLAYING: {_T.DIGIT: "_key_during_play", _T.PROMPT_FINISHED: "_play_said", _T.HUNG_UP: "_caller_left"},
    FlowState.MENU: {
        _T.DIGIT: "_key_in_menu",
        _T.PROMPT_FINISHED: "_menu_asked",
        _T.TIMER: "_menu_timed_out",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.COLLECT: {
        _T.DIGIT: "_key_in_entry",
        _T.PROMPT_FINISHED: "_entry_asked",
        _T.TIMER: "_entry_timed_out",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.ENTERING: {
        _T.DIGIT: "_ignore",  # not yet in the queue: no offer to answer
        _T.QUEUE_UPDATE: "_queue_update",
        _T.QUEUE_REFUSED: "_queue_refused",
        _T.MAX_WAIT: "_max_wait_reached",
        _T.CONNECTED: "_connected",  # an agent answered before the first update came
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.ANNOUNCING: {
        _T.DIGIT: "_callback_key",
        _T.PROMPT_FINISHED: "_announced",
        _T.QUEUE_UPDATE: "_ignore",  # (after an overflow's requeue): the announcement being said goes on
        _T.MAX_WAIT: "_max_wait_reached",
        _T.CONNECTED: "_connected",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.WAITING: {
        _T.DIGIT: "_callback_key",
        _T.QUEUE_UPDATE: "_queue_update",
        _T.MAX_WAIT: "_max_wait_reached",
        _T.CONNECTED: "_connected",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.BOOKING: {
        _T.DIGIT: "_ignore",
        _T.QUEUE_UPDATE: "_ignore",  # a watch's answer already on its way when the caller chose
        _T.CALLBACK_BOOKED: "_callback_booked",
        _T.CALLBACK_FAILED: "_callback_failed",
        _T.MAX_WAIT: "_max_wait_while_booking",
        _T.CONNECTED: "_connected",  # an agent answered before the call-back took the call's place
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.CALLBACK_NUMBER: {
        _T.DIGIT: "_key_in_number",
        _T.PROMPT_FINISHED: "_number_asked",
        _T.TIMER: "_number_timed_out",
        _T.QUEUE_UPDATE: "_ignore",  # the watch's answer while typing: no announcement over the number
        _T.MAX_WAIT: "_max_wait_reached",
        _T.CONNECTED: "_connected",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.CALLBACK_CONFIRM: {
        _T.DIGIT: "_ignore",
        _T.PROMPT_FINISHED: "_callback_confirmed",
        _T.QUEUE_UPDATE: "_ignore",  # a watch's answer already on its way when the call-back was booked
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.TRANSFER_PROMPT: {
        _T.DIGIT: "_ignore",  # no key cuts the words before a transfer short
        _T.PROMPT_FINISHED: "_transfer_announced",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.TRANSFERRING: {
        _T.DIGIT: "_ignore",
        _T.CONNECTED: "_connected",
        _T.TRANSFER_FAILED: "_transfer_failed",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.VOICEMAIL_PROMPT: {
        _T.DIGIT: "_key_at_the_invitation",
        _T.PROMPT_FINISHED: "_invited",
        _T.HUNG_UP: "_caller_left",
    },
    FlowState.RECORDING: {
        _T.DIGIT: "_key_while_recording",
        _T.TIMER: "_message_long_enough",
        _T.HUNG_UP: "_left_while_recording",
    },
    FlowState.RECORDED: {_T.DIGIT: "_ignore", _T.RECORDED: "_recorded", _T.HUNG_UP: "_left_once_recorded"},
    FlowState.GOODBYE: {_T.DIGIT: "_ignore", _T.PROMPT_FINISHED: "_goodbye_said", _T.HUNG_UP: "_caller_left"},
    FlowState.ENDED: {
        trigger: "_ignore"
        for trigger in (
            _T.DIGIT,
            _T.QUEUE_UPDATE,
            _T.QUEUE_REFUSED,
            _T.CONNECTED,
            _T.TRANSFER_FAILED,
            _T.CALLBACK_BOOKED,
            _T.CALLBACK_FAILED,
            _T.HUNG_UP,
        )
    },
}
_STALE: dict[Trigger, str] = {_T.STALE_PROMPT: "_ignore", _T.STALE_TIMER: "_ignore"}
TRANSITIONS: Mapping[tuple[FlowState, Trigger], str] = {
    (state, trigger): step
    for state, steps in _STEPS.items()
    for trigger, step in ({**_STALE, **steps} if state is not FlowState.IDLE else steps).items()
}
