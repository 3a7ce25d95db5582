"""The flow interpreter: one `Session` per call, events in, actions out, no I/O and no clock.

The driver (media/ for SIP calls) feeds it what happens on the call — a key, a prompt said to its end,
a timer, the queue's answers — with the time, and does what it returns. What the caller typed and chose
becomes the session's `attributes`, given to the queue with the call; `route` lists the nodes the call
went through.

What a caller who hates long menus wishes, and gets: a key pressed during a prompt cuts it short and
counts (a caller who knows the menu types ahead), `*` while typing digits starts the entry again, a wrong
or missing answer is asked again a few times then the flow's fallback takes over, and a flow that would
go round without the caller ever acting hangs up after `max_steps` nodes rather than keep the line.

The session's state is a `FlowState`; `ivr._states.TRANSITIONS` is the one table of what each state does
with each trigger, including the events a state takes on purpose and ignores (a key while the call is
being transferred, the queue's news while the caller types a call-back number). An event its state does
not take raises `FlowStateError` and changes nothing. A finished session is in `FlowState.ENDED`, which
takes (and ignores) what a driver may still deliver once the flow is over — keys, stale prompts and
timers, the answers of requests in flight, the caller hanging up — and refuses a second start or a
message's end nobody asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from ivr import actions as act
from ivr import events as ev
from ivr._states import EVENT_TRIGGERS, TRANSITIONS, FlowState, Trigger
from ivr.conditions import Facts, holds
from ivr.errors import FlowStateError
from ivr.flow import (
    LANGUAGE,
    Announcements,
    BranchNode,
    CollectNode,
    Flow,
    HangupNode,
    MenuNode,
    MenuOption,
    PlayNode,
    QueueNode,
    SetNode,
    TransferNode,
    VoicemailNode,
    fill,
)
from ivr.speech import position_sentence, wait_sentence
from ivr.validators import VALIDATORS, phone

#: A message shorter than this is taken as no message (a caller who hung up at the tone).
SHORTEST_MESSAGE = 1.0
#: Keys and time allowed to type a call-back number (national 10 digits, or 00 33 and 9 digits).
NUMBER_DIGITS, NUMBER_TIMEOUT, NUMBER_RETRIES = 13, 6.0, 2
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
N = TypeVar("N")

__all__ = ["Facts", "FlowState", "FlowStateError", "Session"]


class Session:
    """One call going through `flow`; `attributes` start with the dialled number's and the caller's."""

    def __init__(self, flow: Flow, facts: Facts, attributes: Mapping[str, str], *, max_steps: int = 60) -> None:
        self.flow = flow
        self.facts = facts
        self.values = dict(attributes)  # what fills the flow's {placeholders}: the number's attributes
        self.attributes = dict(attributes)
        if self.attributes.get(LANGUAGE) not in flow.languages:
            self.attributes[LANGUAGE] = flow.languages[0]
        self.route: list[str] = []
        self.outcome: str | None = None  # why the flow ended: queued, hang-up reason, transferred...
        self.max_steps = max_steps
        self._node: str = flow.start
        self._state = FlowState.IDLE
        self._token = 0
        self._playing: int | None = None
        self._timer: int | None = None
        self._max_wait: int | None = None
        self._attempts = 0
        self._digits = ""
        self._typeahead = ""
        self._offered = False  # the call-back was offered: 1 and 2 answer it from now on
        self._hung_up = False
        self._overflow_due = False  # the maximum wait came while a call-back was being booked
        self._now = 0.0
        self._out: list[act.Action] = []

    # --------------------------------------------------------------------------------- surface

    @property
    def node(self) -> str:
        return self._node

    @property
    def state(self) -> FlowState:
        return self._state

    @property
    def finished(self) -> bool:
        return self._state is FlowState.ENDED

    @property
    def language(self) -> str:
        language = self.attributes[LANGUAGE]
        return language if language in self.flow.languages else self.flow.languages[0]

    def handle(self, event: ev.Event, now: float) -> list[act.Action]:
        """What to do about `event`, which happened at `now`. Raises FlowStateError, changing nothing, for
        an event the current state does not take."""
        trigger = self._trigger(event)
        step = STEPS.get((self._state, trigger))
        if step is None:
            raise FlowStateError(self._state, event)
        self._now, self._out = now, []
        if trigger is Trigger.PROMPT_FINISHED:  # what was awaited has come: its token is stale from now on
            self._playing = None
        elif trigger is Trigger.TIMER:
            self._timer = None
        elif trigger is Trigger.MAX_WAIT:
            self._max_wait = None
        step(self, event)
        return self._out

    def _trigger(self, event: ev.Event) -> Trigger:
        match event:
            case ev.PromptFinished(token) | ev.TimerFired(token) if not 0 < token <= self._token:
                raise FlowStateError(self._state, event, "has a token never given")
            case ev.PromptFinished(token):
                return Trigger.PROMPT_FINISHED if token == self._playing else Trigger.STALE_PROMPT
            case ev.TimerFired(token) if token == self._max_wait:
                return Trigger.MAX_WAIT
            case ev.TimerFired(token):
                return Trigger.TIMER if token == self._timer else Trigger.STALE_TIMER
        return EVENT_TRIGGERS[type(event)]

    # -------------------------------------------------------------------------------- helpers

    def _emit(self, *actions: act.Action) -> None:
        self._out.extend(actions)

    def _next_token(self) -> int:
        self._token += 1
        return self._token

    def _play(self, *clips: act.Clip | str | None) -> None:
        """Say prompts (by name) and texts; nothing when every clip is None."""
        said = tuple(act.Prompt(c, self.language) if isinstance(c, str) else c for c in clips if c is not None)
        if said:
            self._playing = self._next_token()
            self._emit(act.Play(self._playing, said))

    def _stop_playing(self) -> None:
        if self._playing is not None:
            self._playing = None
            self._emit(act.StopPlaying())

    def _start_timer(self, seconds: float) -> None:
        self._timer = self._next_token()
        self._emit(act.StartTimer(self._timer, seconds))

    def _finish(self, outcome: str) -> None:
        self._state, self.outcome = FlowState.ENDED, outcome
        self._playing = self._timer = self._max_wait = None

    def _hang_up(self, reason: str) -> None:
        self._emit(act.HangUp(reason))
        self._finish(reason)

    def _fill(self, template: str) -> str:
        return fill(template, self.values)

    def _queue_attributes(self) -> dict[str, str]:
        return {**self.attributes, "ivr_route": " ".join(self.route)}

    def _current(self, kind: type[N]) -> N:
        node = self.flow.node(self._node)
        assert isinstance(node, kind), f"node {self._node} is not a {kind.__name__}"
        return node

    # ------------------------------------------------------------------------------ the nodes

    def _go(self, node_id: str) -> None:
        if len(self.route) >= self.max_steps:
            self._hang_up("too_many_steps")
            return
        self._node, self._attempts, self._digits = node_id, 0, ""
        self._timer = None
        self.route.append(node_id)
        node = self.flow.node(node_id)
        match node:
            case PlayNode():
                self._state = FlowState.PLAYING
                self._play(*node.prompts)
            case MenuNode():
                self._state = FlowState.MENU
                if not self._take_typeahead(self._choose):
                    self._play(node.prompt)
            case CollectNode():
                self._state = FlowState.COLLECT
                typed = self._take_typeahead(self._collect_digit)
                if not typed or (self._node == node_id and self._state is FlowState.COLLECT and not self._digits):
                    self._play(node.prompt)  # (keys typed ahead that leave nothing entered: `*` alone)
            case SetNode():
                self.attributes.update(node.attributes)
                self._go(node.next)
            case BranchNode():
                rule = next(
                    (
                        rule
                        for rule in node.rules
                        if holds(rule.when, self.facts, self.attributes, self.values, self._now)
                    ),
                    None,
                )
                self._go(rule.go if rule is not None else node.otherwise)
            case QueueNode():
                self._typeahead = ""  # keys typed ahead answer questions, not the call-back offer minutes later
                self._enter_queue(node)
            case TransferNode():
                self._state = FlowState.TRANSFER_PROMPT
                self._play(node.prompt)
                if self._playing is None:
                    self._transfer(node)
            case VoicemailNode():
                self._typeahead = ""  # nor a menu after the message
                self._state = FlowState.VOICEMAIL_PROMPT
                self._play(node.prompt)
            case HangupNode():
                self._state = FlowState.GOODBYE
                self._play(node.prompt)
                if self._playing is None:
                    self._hang_up("flow_end")

    def _take_typeahead(self, consume: Callable[[str], None]) -> bool:
        """Feed keys typed ahead to the question just asked; True when some were."""
        if not self._typeahead:
            return False
        node_before = self._node
        while self._typeahead and self._node == node_before and not self.finished:
            digit, self._typeahead = self._typeahead[0], self._typeahead[1:]
            consume(digit)
            if self._state not in (FlowState.MENU, FlowState.COLLECT):
                break
        return True

    # ---------------------------------------------------------------- steps of every state

    def _ignore(self, event: ev.Event) -> None:
        """An event the state takes and lets pass (written in the table so that it is on purpose)."""

    def _start(self, event: ev.Event) -> None:
        self._go(self.flow.start)

    def _caller_left(self, event: ev.Event) -> None:
        self._hung_up = True
        self._finish("caller_hung_up")

    def _connected(self, event: ev.Event) -> None:
        self._finish("connected")

    # ------------------------------------------------------------------------- play, menu, collect

    def _key_during_play(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        self._typeahead += event.digit  # cut short; the key answers the next question
        self._stop_playing()
        self._go(self._current(PlayNode).next)

    def _play_said(self, event: ev.Event) -> None:
        self._go(self._current(PlayNode).next)

    def _key_in_menu(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        self._stop_playing()
        self._choose(event.digit)

    def _menu_asked(self, event: ev.Event) -> None:
        self._start_timer(self._current(MenuNode).timeout)

    def _menu_timed_out(self, event: ev.Event) -> None:
        self._ask_again(self._current(MenuNode), no_input=True)

    def _key_in_entry(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        self._stop_playing()
        self._collect_digit(event.digit)

    def _entry_asked(self, event: ev.Event) -> None:
        node = self._current(CollectNode)
        self._start_timer(node.digit_timeout if self._digits else node.timeout)

    def _entry_timed_out(self, event: ev.Event) -> None:
        if self._digits:
            self._collected()
        else:
            self._ask_again(self._current(CollectNode), no_input=True)

    def _ask_again(self, node: MenuNode | CollectNode, *, no_input: bool) -> None:
        """Ask the node's question again, saying why first; after its retries, its fallback."""
        self._attempts += 1
        self._digits, self._typeahead = "", ""
        self._timer = None  # a wrong key while waiting for one: that wait is over
        if self._attempts > node.retries:
            self._go(node.fallback)
            return
        self._play(node.no_input if no_input else node.invalid, node.prompt)

    def _choose(self, digit: str) -> None:
        node = self._current(MenuNode)
        option = node.options.get(digit)  # type: ignore[call-overload]  # (keys are Key literals; a digit, any str)
        if option is None:
            self._ask_again(node, no_input=False)
            return
        self._timer = None
        if isinstance(option, MenuOption):
            self.attributes.update(option.set)
            self._go(option.go)
        else:
            self._go(option)

    def _collect_digit(self, digit: str) -> None:
        node = self._current(CollectNode)
        if digit == node.terminator:
            self._collected()
        elif digit == "*":  # start the entry again (the terminator is #)
            self._digits = ""
            self._start_timer(node.timeout)
        elif digit != "#":
            self._digits += digit
            if len(self._digits) >= node.max_length:
                self._collected()
            else:
                self._start_timer(node.digit_timeout)
        else:
            self._start_timer(node.digit_timeout)  # '#' with no terminator: nothing to do with it

    def _collected(self) -> None:
        node = self._current(CollectNode)
        typed, self._digits = self._digits, ""
        self._timer = None
        if not typed:
            if node.optional:
                self._go(node.next)
            else:
                self._ask_again(node, no_input=True)
            return
        value = VALIDATORS[node.validate_as](typed) if node.validate_as is not None else typed
        if len(typed) < node.min_length or value is None:
            self._ask_again(node, no_input=False)
            return
        self.attributes[node.into] = value
        self._go(node.next)

    # ----------------------------------------------------------------------------------- queue

    def _enter_queue(self, node: QueueNode) -> None:
        self._state, self._offered = FlowState.ENTERING, False
        self._emit(act.Enqueue(self._fill(node.queue), self._queue_attributes()))
        if node.max_wait is not None:
            self._max_wait = self._next_token()
            self._emit(act.StartTimer(self._max_wait, node.max_wait.seconds))

    def _queue_refused(self, event: ev.Event) -> None:
        self._max_wait = None
        refused = self._current(QueueNode).refused
        if refused is not None:
            self._go(refused)
        else:
            self._hang_up("queue_refused")

    def _queue_update(self, event: ev.Event) -> None:
        assert isinstance(event, ev.QueueUpdate)
        node = self._current(QueueNode)
        clips: list[act.Clip | str | None] = [node.prompt] if self._state is FlowState.ENTERING else []
        if node.announce is not None:
            if node.announce.position:
                clips.append(act.Speech(position_sentence(event.position, self.language), self.language))
            if node.announce.wait:
                clips.append(act.Speech(wait_sentence(event.wait, self.language), self.language))
        offer = node.callback
        if offer is not None and (event.wait is None or event.wait > offer.above):
            clips.append(offer.prompt)
            self._offered = True
        self._state = FlowState.ANNOUNCING
        self._play(*clips)
        if self._playing is None:
            self._wait_in_queue()

    def _announced(self, event: ev.Event) -> None:
        self._wait_in_queue()

    def _wait_in_queue(self) -> None:
        """Music until the next announcement (or, with none, until an agent answers)."""
        node = self._current(QueueNode)
        self._state, self._digits = FlowState.WAITING, ""
        if node.announce is not None or node.callback is not None:
            self._emit(act.WatchQueue((node.announce or Announcements()).every))

    def _max_wait_reached(self, event: ev.Event) -> None:
        self._overflow()

    def _max_wait_while_booking(self, event: ev.Event) -> None:
        self._overflow_due = True  # if the call-back fails, the call still moves on

    def _overflow(self) -> None:
        max_wait = self._current(QueueNode).max_wait
        assert max_wait is not None
        self._emit(act.Overflow(self._fill(max_wait.to)))

    def _callback_key(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        if not self._offered or event.digit not in "12":
            return  # music goes on: a key means nothing while waiting, but for the offer
        number = _callable(self.attributes.get("caller", ""))
        self._stop_playing()
        if event.digit == "1" and number is not None:
            self._book(number)
        else:
            self._state, self._attempts, self._digits = FlowState.CALLBACK_NUMBER, 0, ""
            offer = self._current(QueueNode).callback
            assert offer is not None
            self._play(offer.number_prompt)

    def _book(self, number: str) -> None:
        self._state, self._timer = FlowState.BOOKING, None
        self.attributes["callback_number"] = number
        self._emit(act.RequestCallback(number))

    def _callback_booked(self, event: ev.Event) -> None:
        self._state = FlowState.CALLBACK_CONFIRM
        self._max_wait = None
        offer = self._current(QueueNode).callback
        assert offer is not None
        self._play(offer.confirm)

    def _callback_failed(self, event: ev.Event) -> None:
        self._wait_in_queue()
        if self._overflow_due:
            self._overflow_due = False
            self._overflow()

    def _callback_confirmed(self, event: ev.Event) -> None:
        self._hang_up("callback")

    def _key_in_number(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        self._stop_playing()
        if event.digit == "#":
            self._number_complete()
        elif event.digit == "*":
            self._digits = ""
            self._start_timer(NUMBER_TIMEOUT)
        else:
            self._digits += event.digit
            if len(self._digits) >= NUMBER_DIGITS:
                self._number_complete()
            else:
                self._start_timer(NUMBER_TIMEOUT)

    def _number_asked(self, event: ev.Event) -> None:
        self._start_timer(NUMBER_TIMEOUT)

    def _number_timed_out(self, event: ev.Event) -> None:
        if self._digits:
            self._number_complete()
        else:
            self._number_again()

    def _number_complete(self) -> None:
        number = phone(self._digits)
        self._digits = ""
        if number is None:
            self._number_again()
        else:
            self._book(number)

    def _number_again(self) -> None:
        """A wrong or missing number: asked again, then back to waiting (the caller keeps its place)."""
        self._attempts += 1
        self._timer = None
        offer = self._current(QueueNode).callback
        assert offer is not None
        if self._attempts > NUMBER_RETRIES:
            self._wait_in_queue()
            return
        self._play(offer.invalid, offer.number_prompt)

    # ------------------------------------------------------------------ transfer, voicemail, end

    def _transfer_announced(self, event: ev.Event) -> None:
        self._transfer(self._current(TransferNode))

    def _transfer(self, node: TransferNode) -> None:
        self._state = FlowState.TRANSFERRING
        self._emit(act.Transfer(self._fill(node.to)))

    def _transfer_failed(self, event: ev.Event) -> None:
        assert isinstance(event, ev.TransferFailed)
        fallback = self._current(TransferNode).fallback
        if fallback is not None:
            self._go(fallback)
        else:
            self._hang_up(f"transfer_failed_{event.status}")

    def _key_at_the_invitation(self, event: ev.Event) -> None:
        self._stop_playing()  # a key during the invitation: the caller is ready to speak
        self._start_recording()

    def _invited(self, event: ev.Event) -> None:
        self._start_recording()

    def _start_recording(self) -> None:
        self._state = FlowState.RECORDING
        self._emit(act.StartRecording())
        self._start_timer(self._current(VoicemailNode).max_seconds)

    def _key_while_recording(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Digit)
        if event.digit == "#":  # other keys are part of the message
            self._stop_recording()

    def _message_long_enough(self, event: ev.Event) -> None:
        self._stop_recording()

    def _stop_recording(self) -> None:
        self._state, self._timer = FlowState.RECORDED, None
        self._emit(act.StopRecording())

    def _left_while_recording(self, event: ev.Event) -> None:
        self._hung_up = True
        self._stop_recording()  # the message is kept: many callers hang up to end it

    def _left_once_recorded(self, event: ev.Event) -> None:
        self._hung_up = True  # the message is kept, then the flow ends

    def _recorded(self, event: ev.Event) -> None:
        assert isinstance(event, ev.Recorded)
        node = self._current(VoicemailNode)
        if event.seconds >= SHORTEST_MESSAGE:
            self._emit(act.LeaveVoicemail(self._fill(node.queue), self._queue_attributes()))
        if self._hung_up:
            self._finish("caller_hung_up")
        else:
            self._go(node.next)

    def _goodbye_said(self, event: ev.Event) -> None:
        self._hang_up("flow_end")


Step = Callable[[Session, ev.Event], None]
#: `TRANSITIONS` with each step's name made the Session method it names (a name without its method fails
#: here, at import).
STEPS: Mapping[tuple[FlowState, Trigger], Step] = {key: getattr(Session, name) for key, name in TRANSITIONS.items()}


def _callable(caller: str) -> str | None:
    """The caller's own number, when a call-back can reach it (E.164, or a national French number)."""
    if E164.match(caller):
        return caller
    return phone(caller)
