"""Agents' presence: logging in and out, ready and not ready, phones, headsets, and nodes lost.

An agent that cannot take work any more gives its pending offer back (revoked, nobody blamed); one that
can take work again is given the best waiting task at once (`offers.agent_changed`).
"""

from __future__ import annotations

from acd.decisions import Kind
from acd.errors import TransitionError
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    HeadsetChanged,
    LoginFailed,
    NodeLost,
    PhoneChanged,
)
from acd.model import PHONE_CHANNELS, Agent, Presence
from acd.routing.offers import agent_changed, revoke
from acd.routing.state import State

NODE_LOST = "node_lost"
#: Why an agent is not ready when its headset was unplugged: the reason its plugging in again undoes.
HEADSET = "headset"


def agent_logged_in(st: State, event: AgentLoggedIn, now: float) -> None:
    agent = st.agent(event.agent_id)
    if agent.presence is not Presence.OFFLINE:
        raise TransitionError(f"agent {agent.id!r} is logged in already", agent=agent.id, state=agent.state.value)
    agent.presence = Presence.READY if event.ready else Presence.NOT_READY
    agent.reason = None if event.ready else "logged_in"
    if event.ready and agent.headset is False:  # its softphone says the headset is unplugged
        agent.presence, agent.reason = Presence.NOT_READY, HEADSET
    agent.logged_in_at = agent.idle_since = now
    agent.missed_offers = 0
    agent.node = event.node
    agent_changed(st, agent, now)


def _logged_in(st: State, agent_id: str, what: str) -> Agent:
    agent = st.agent(agent_id)
    if agent.presence is Presence.OFFLINE:
        raise TransitionError(f"cannot {what} agent {agent.id!r}: it is offline", agent=agent.id, state="offline")
    return agent


def agent_logged_out(st: State, event: AgentLoggedOut, now: float) -> None:
    agent = _logged_in(st, event.agent_id, "log out")
    if agent.reservation is not None or agent.tasks:
        raise TransitionError(
            f"cannot log out agent {agent.id!r}: it has work in hand", agent=agent.id, state=agent.state.value
        )
    agent.presence = Presence.OFFLINE
    agent.reason = None
    agent.logged_in_at = None
    agent_changed(st, agent, now)


def agent_ready(st: State, event: AgentReady, now: float) -> None:
    agent = _logged_in(st, event.agent_id, "make ready")
    if event.node is not None:
        agent.node = event.node  # the agent came back through another node
    if agent.presence is Presence.READY:
        return
    agent.presence = Presence.READY
    agent.reason = None
    agent.missed_offers = 0
    if not agent.tasks:
        agent.idle_since = now  # time spent not ready is not idle time
    agent_changed(st, agent, now)


def agent_not_ready(st: State, event: AgentNotReady, now: float) -> None:
    agent = _logged_in(st, event.agent_id, "make not ready")
    agent.presence = Presence.NOT_READY
    agent.reason = event.reason
    if agent.reservation is not None:
        revoke(st, st.task(agent.reservation), now, reason="agent_not_ready", requeue_it=True)
    agent_changed(st, agent, now)


def phone_changed(st: State, event: PhoneChanged, now: float) -> None:
    """A phone that cannot be rung takes no call; one that was being rung gives the offer back."""
    agent = st.agent(event.agent_id)
    agent.phone = event.registered
    offered = st.task(agent.reservation) if agent.reservation is not None else None
    if not event.registered and offered is not None and offered.channel in PHONE_CHANNELS:
        revoke(st, offered, now, reason="phone_unregistered", requeue_it=True)
    agent_changed(st, agent, now)


def headset_changed(st: State, event: HeadsetChanged, now: float) -> None:
    """Unplugged: a ready agent goes not ready (reason `headset`) and no call is offered; plugged in
    again: back to ready if it was the headset that made it not ready, and nothing changed that since."""
    agent = st.agent(event.agent_id)
    agent.headset = event.connected
    offered = st.task(agent.reservation) if agent.reservation is not None else None
    if not event.connected:
        if agent.presence is Presence.READY:
            agent.presence, agent.reason = Presence.NOT_READY, HEADSET
        if offered is not None and (agent.presence is Presence.NOT_READY or offered.channel in PHONE_CHANNELS):
            revoke(st, offered, now, reason="headset_unplugged", requeue_it=True)
    elif agent.presence is Presence.NOT_READY and agent.reason == HEADSET:
        agent.presence, agent.reason = Presence.READY, None
        agent.missed_offers = 0
        if not agent.tasks:
            agent.idle_since = now
    agent_changed(st, agent, now)


def node_lost(st: State, event: NodeLost, now: float) -> None:
    """Nobody can reach the agents of a lost node: their offers go back, they go not ready.

    Tasks hold no node: those a lost node was ringing outside come back by their own timer.
    """
    for agent in [a for a in st.store.agents() if a.node == event.node]:
        agent.node = None
        if agent.presence is Presence.OFFLINE:
            continue
        agent.presence = Presence.NOT_READY
        agent.reason = NODE_LOST
        if agent.reservation is not None:
            revoke(st, st.task(agent.reservation), now, reason=NODE_LOST, requeue_it=True)
        agent_changed(st, agent, now)


def login_failed(st: State, event: LoginFailed, now: float) -> None:
    kind = Kind.LOGIN_FAILED if event.limit is None else Kind.LOGIN_REFUSED
    st.emit(kind, now, reason=event.limit, data={"user": event.user, "address": event.address})
