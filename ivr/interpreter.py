"""The flow interpreter: one `Session` per call, events in, actions out, no I/O and no clock.

The driver (media/ for SIP calls) feeds it what happens on the call — a key, a prompt said to its end,
a timer, the queue's answers — with the time, and does what it returns. What the caller typed and chose
becomes the session's `attributes`, given to the queue with the call; `route` lists the nodes the call
went through.

What a caller who hates long menus wishes, and gets: a key pressed during a prompt cuts it short and
counts (a caller who knows the menu types ahead), `*` while typing digits starts the entry again, a wrong
or missing answer is asked again a few times then the flow's fallback takes over, and a flow that would
go round without the caller ever acting hangs up after `max_steps` nodes rather than keep the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from ivr import actions as act
from ivr import events as ev
from ivr.flow import (
    LANGUAGE,
    Announcements,
    BranchNode,
    CollectNode,
    Condition,
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


class Facts(Protocol):
    """What a branch may ask of the centre, at `now` (seconds since the epoch)."""

    def is_open(self, calendar: str, now: float) -> bool: ...

    def is_holiday(self, calendar: str, now: float) -> bool: ...

    def estimated_wait(self, queue: str, now: float) -> float | None: ...

    def agents_logged_in(self, queue: str, now: float) -> int: ...


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
        self.finished = False
        self.outcome: str | None = None  # why the flow ended: queued, hang-up reason, transferred...
        self.max_steps = max_steps
        self._node: str = flow.start
        self._state = "idle"
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
    def language(self) -> str:
        language = self.attributes[LANGUAGE]
        return language if language in self.flow.languages else self.flow.languages[0]

    def handle(self, event: ev.Event, now: float) -> list[act.Action]:
        """What to do about `event`, which happened at `now`."""
        if self.finished:
            return []
        self._now, self._out = now, []
        match event:
            case ev.CallStarted() if self._state == "idle":
                self._go(self.flow.start)
            case ev.CallerHungUp():
                self._caller_hung_up()
            case ev.Digit(digit):
                self._digit(digit)
            case ev.PromptFinished(token) if token == self._playing:
                self._playing = None
                self._prompt_finished()
            case ev.TimerFired(token) if token == self._max_wait:
                self._max_wait = None
                self._overflow()
            case ev.TimerFired(token) if token == self._timer:
                self._timer = None
                self._timed_out()
            case ev.QueueUpdate() | ev.QueueRefused() | ev.CallbackBooked() | ev.CallbackFailed():
                self._queue_event(event)
            case ev.Connected():
                self._finish("connected")
            case ev.TransferFailed(status) if self._state == "transferring":
                self._transfer_failed(status)
            case ev.Recorded(seconds) if self._state == "recorded":
                self._recorded(seconds)
        return self._out

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
        self.finished, self.outcome = True, outcome
        self._playing = self._timer = self._max_wait = None

    def _hang_up(self, reason: str) -> None:
        self._emit(act.HangUp(reason))
        self._finish(reason)

    def _fill(self, template: str) -> str:
        return fill(template, self.values)

    def _queue_attributes(self) -> dict[str, str]:
        return {**self.attributes, "ivr_route": " ".join(self.route)}

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
                self._state = "playing"
                self._play(*node.prompts)
            case MenuNode():
                self._state = "menu"
                if not self._take_typeahead(self._choose):
                    self._play(node.prompt)
            case CollectNode():
                self._state = "collect"
                typed = self._take_typeahead(self._collect_digit)
                if not typed or (self._node == node_id and self._state == "collect" and not self._digits):
                    self._play(node.prompt)  # (keys typed ahead that leave nothing entered: `*` alone)
            case SetNode():
                self._set(node.attributes)
                self._go(node.next)
            case BranchNode():
                rule = next((rule for rule in node.rules if self._holds(rule.when)), None)
                self._go(rule.go if rule is not None else node.otherwise)
            case QueueNode():
                self._typeahead = ""  # keys typed ahead answer questions, not the call-back offer minutes later
                self._enter_queue(node)
            case TransferNode():
                self._state = "transfer_prompt"
                self._play(node.prompt)
                if self._playing is None:
                    self._transfer(node)
            case VoicemailNode():
                self._typeahead = ""  # nor a menu after the message
                self._state = "voicemail_prompt"
                self._play(node.prompt)
            case HangupNode():
                self._state = "goodbye"
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
            if self._state not in ("menu", "collect"):
                break
        return True

    def _set(self, values: Mapping[str, str]) -> None:
        self.attributes.update(values)

    def _holds(self, condition: Condition) -> bool:
        facts, now = self.facts, self._now
        checks: list[bool] = []
        if condition.open is not None:
            checks.append(facts.is_open(condition.open, now))
        if condition.closed is not None:
            checks.append(not facts.is_open(condition.closed, now))
        if condition.holiday is not None:
            checks.append(facts.is_holiday(condition.holiday, now))
        for name, wanted in (condition.attribute or {}).items():
            value = self.attributes.get(name)
            checks.append(value in wanted if isinstance(wanted, list) else value == wanted)
        if condition.wait_above is not None:
            wait = facts.estimated_wait(self._fill(condition.wait_above.queue), now)
            checks.append(wait is None or wait > condition.wait_above.seconds)
        if condition.agents_below is not None:
            logged_in = facts.agents_logged_in(self._fill(condition.agents_below.queue), now)
            checks.append(logged_in < condition.agents_below.count)
        return all(checks)

    # ---------------------------------------------------------------------------- keys, prompts

    def _digit(self, digit: str) -> None:
        state = self._state
        if state == "playing":
            self._typeahead += digit  # cut short; the key answers the next question
            self._stop_playing()
            self._go(self._current(PlayNode).next)
        elif state == "menu":
            self._stop_playing()
            self._choose(digit)
        elif state == "collect":
            self._stop_playing()
            self._collect_digit(digit)
        elif state == "voicemail_prompt":
            self._stop_playing()
            self._start_recording()
        elif state == "recording" and digit == "#":  # other keys are part of the message
            self._stop_recording()
        elif state in ("waiting", "announcing"):
            self._callback_key(digit)
        elif state == "callback_number":
            self._stop_playing()
            self._number_digit(digit)
        # Other states (transferring, the last words before hanging up) take no key.

    def _prompt_finished(self) -> None:
        state = self._state
        if state == "playing":
            self._go(self._current(PlayNode).next)
        elif state == "menu":
            self._start_timer(self._current(MenuNode).timeout)
        elif state == "collect":
            node = self._current(CollectNode)
            self._start_timer(node.digit_timeout if self._digits else node.timeout)
        elif state == "transfer_prompt":
            self._transfer(self._current(TransferNode))
        elif state == "voicemail_prompt":
            self._start_recording()
        elif state == "goodbye":
            self._hang_up("flow_end")
        elif state == "announcing":
            self._wait_in_queue()
        elif state == "callback_number":
            self._start_timer(NUMBER_TIMEOUT)
        elif state == "callback_confirm":
            self._hang_up("callback")

    def _timed_out(self) -> None:
        state = self._state
        if state == "menu":
            self._ask_again(self._current(MenuNode), no_input=True)
        elif state == "collect":
            if self._digits:
                self._collected()
            else:
                self._ask_again(self._current(CollectNode), no_input=True)
        elif state == "recording":
            self._stop_recording()
        elif state == "callback_number":
            if self._digits:
                self._number_complete()
            else:
                self._number_again()

    def _current(self, kind: type[N]) -> N:
        node = self.flow.node(self._node)
        assert isinstance(node, kind), f"node {self._node} is not a {kind.__name__}"
        return node

    def _ask_again(self, node: MenuNode | CollectNode, *, no_input: bool) -> None:
        """Ask the node's question again, saying why first; after its retries, its fallback."""
        self._attempts += 1
        self._digits, self._typeahead = "", ""
        self._timer = None  # a wrong key while waiting for one: that wait is over
        if self._attempts > node.retries:
            self._go(node.fallback)
            return
        self._play(node.no_input if no_input else node.invalid, node.prompt)

    # ---------------------------------------------------------------------------- menu, collect

    def _choose(self, digit: str) -> None:
        node = self._current(MenuNode)
        option = node.options.get(digit)  # type: ignore[call-overload]  # (keys are Key literals; a digit, any str)
        if option is None:
            self._ask_again(node, no_input=False)
            return
        self._timer = None
        if isinstance(option, MenuOption):
            self._set(option.set)
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
        self._state, self._offered = "entering", False
        self._emit(act.Enqueue(self._fill(node.queue), self._queue_attributes()))
        if node.max_wait is not None:
            self._max_wait = self._next_token()
            self._emit(act.StartTimer(self._max_wait, node.max_wait.seconds))

    def _queue_event(self, event: ev.Event) -> None:
        state = self._state
        match event:
            case ev.QueueRefused() if state == "entering":
                self._max_wait = None
                refused = self._current(QueueNode).refused
                if refused is not None:
                    self._go(refused)
                else:
                    self._hang_up("queue_refused")
            case ev.QueueUpdate(position, wait) if state in ("entering", "waiting"):
                self._announce(position, wait, first=state == "entering")
            case ev.CallbackBooked() if state == "booking":
                self._state = "callback_confirm"
                self._max_wait = None
                offer = self._current(QueueNode).callback
                assert offer is not None
                self._play(offer.confirm)
            case ev.CallbackFailed() if state == "booking":
                self._wait_in_queue()
                if self._overflow_due:
                    self._overflow_due = False
                    self._overflow()

    def _announce(self, position: int, wait: float | None, *, first: bool) -> None:
        node = self._current(QueueNode)
        clips: list[act.Clip | str | None] = [node.prompt] if first else []
        if node.announce is not None:
            if node.announce.position:
                clips.append(act.Speech(position_sentence(position, self.language), self.language))
            if node.announce.wait:
                clips.append(act.Speech(wait_sentence(wait, self.language), self.language))
        offer = node.callback
        if offer is not None and (wait is None or wait > offer.above):
            clips.append(offer.prompt)
            self._offered = True
        self._state = "announcing"
        self._play(*clips)
        if self._playing is None:
            self._wait_in_queue()

    def _wait_in_queue(self) -> None:
        """Music until the next announcement (or, with none, until an agent answers)."""
        node = self._current(QueueNode)
        self._state, self._digits = "waiting", ""
        if node.announce is not None or node.callback is not None:
            self._emit(act.WatchQueue((node.announce or Announcements()).every))

    def _overflow(self) -> None:
        max_wait = self._current(QueueNode).max_wait
        if self._state == "booking":
            self._overflow_due = True  # if the call-back fails, the call still moves on
        elif max_wait is not None and self._state != "callback_confirm":
            self._emit(act.Overflow(self._fill(max_wait.to)))

    def _callback_key(self, digit: str) -> None:
        if not self._offered or digit not in "12":
            return  # music goes on: a key means nothing while waiting, but for the offer
        number = _callable(self.attributes.get("caller", ""))
        self._stop_playing()
        if digit == "1" and number is not None:
            self._book(number)
        else:
            self._state, self._attempts, self._digits = "callback_number", 0, ""
            offer = self._current(QueueNode).callback
            assert offer is not None
            self._play(offer.number_prompt)

    def _book(self, number: str) -> None:
        self._state, self._timer = "booking", None
        self.attributes["callback_number"] = number
        self._emit(act.RequestCallback(number))

    def _number_digit(self, digit: str) -> None:
        if digit == "#":
            self._number_complete()
        elif digit == "*":
            self._digits = ""
            self._start_timer(NUMBER_TIMEOUT)
        else:
            self._digits += digit
            if len(self._digits) >= NUMBER_DIGITS:
                self._number_complete()
            else:
                self._start_timer(NUMBER_TIMEOUT)

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

    def _transfer(self, node: TransferNode) -> None:
        self._state = "transferring"
        self._emit(act.Transfer(self._fill(node.to)))

    def _transfer_failed(self, status: int) -> None:
        fallback = self._current(TransferNode).fallback
        if fallback is not None:
            self._go(fallback)
        else:
            self._hang_up(f"transfer_failed_{status}")

    def _start_recording(self) -> None:
        self._state = "recording"
        self._emit(act.StartRecording())
        self._start_timer(self._current(VoicemailNode).max_seconds)

    def _stop_recording(self) -> None:
        self._state, self._timer = "recorded", None
        self._emit(act.StopRecording())

    def _recorded(self, seconds: float) -> None:
        node = self._current(VoicemailNode)
        if seconds >= SHORTEST_MESSAGE:
            self._emit(act.LeaveVoicemail(self._fill(node.queue), self._queue_attributes()))
        if self._hung_up:
            self._finish("caller_hung_up")
        else:
            self._go(node.next)

    def _caller_hung_up(self) -> None:
        self._hung_up = True
        if self._state == "recording":
            self._stop_recording()  # the message is kept: many callers hang up to end it
        elif self._state != "recorded":
            self._finish("caller_hung_up")


def _callable(caller: str) -> str | None:
    """The caller's own number, when a call-back can reach it (E.164, or a national French number)."""
    if E164.match(caller):
        return caller
    return phone(caller)
