"""The shapes of the API's answers about tasks and agents, as `views` makes them: the OpenAPI document says
what a client gets, and a client that follows ids (a created task's, then its path) can tell where they go."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from acd.model import AgentState, Channel, Outcome, Place


class TaskView(BaseModel):
    id: str
    channel: Channel
    queue: str
    state: Place
    priority: int
    attributes: dict[str, str]
    required_skills: dict[str, int]
    agent: str | None
    entered_at: float
    queued_at: float
    not_before: float | None
    offered_at: float | None
    offer_expires_at: float | None
    answered_at: float | None
    ended_at: float | None
    outcome: Outcome | None
    overflow_step: int
    #: Place in the queue (1: next) and its estimated wait in seconds; null where there is none to give.
    position: int | None
    estimated_wait: float | None
    estimate_method: str | None


class AgentView(BaseModel):
    id: str
    name: str
    team: str
    site: str
    state: AgentState
    reason: str | None
    #: When the agent entered its state; null for an agent offline since the start.
    state_since: float | None
    seconds_in_state: float | None
    reservation: str | None
    tasks: list[str]
    wrap_ups: list[str]
    skills: dict[str, int]
    missed_offers: int
    handled: int
    queues: list[str]
    phone: Literal["registered", "unregistered"] | None
    headset: Literal["connected", "disconnected"] | None
