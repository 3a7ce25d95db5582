"""What the agent sees in the terminal, from the desk's state. Pure: the driver prints it.

    cmartin · available · phone registered · headset Jabra Evolve2 40
    talking with 0384000000 · tva-69 · topic=tva siren=732829320 · 01:23 · muted
    wrap-up of t-3f2a · w to end

Without `now` the timers are left out: a log (stdout not a terminal) gets a line only when something
other than the time changed.
"""

from __future__ import annotations

from headsets.softphone.desk import CallState, Desk

_SHOWN_ATTRIBUTES = ("topic", "siren", "siret", "department", "language", "callback_number")


def status(desk: Desk, now: float | None = None) -> list[str]:
    lines = [_agent_line(desk)]
    call = desk.call
    if call is not None:
        offer = desk.offer if desk.offer is not None and desk.offer.queue == call.queue else None
        parts = [_call_words(call.state, call.caller), call.queue]
        if offer is not None:
            shown = [f"{name}={offer.attributes[name]}" for name in _SHOWN_ATTRIBUTES if name in offer.attributes]
            parts += [" ".join(shown)] if shown else []
        if now is not None:
            parts.append(_clock(now - call.since))
        parts += ["muted"] if call.muted else []
        lines.append(" · ".join(parts))
    for task in desk.wrap_ups:
        lines.append(f"wrap-up of {task} · w to end")
    return lines


def _agent_line(desk: Desk) -> str:
    state = desk.agent_state + (f" ({desk.agent_reason})" if desk.agent_reason else "")
    if desk.registered is None:
        phone = "phone registering"
    else:
        phone = "phone registered" if desk.registered else f"phone NOT registered ({desk.registration_problem})"
    headset = f"headset {desk.device}" if desk.device else "default sound device"
    if not desk.connected:
        headset += " UNPLUGGED"
    return f"{desk.agent} · {state} · {phone} · {headset}"


def _call_words(state: CallState, caller: str) -> str:
    return {
        CallState.RINGING: f"RINGING: {caller}",
        CallState.TALKING: f"talking with {caller}",
        CallState.HELD: f"{caller} on hold",
    }[state]


def _clock(seconds: float) -> str:
    minutes, second = divmod(max(0, int(seconds)), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute:02d}:{second:02d}"
