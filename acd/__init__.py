"""The queue core of the contact centre: tasks, agents, skills, reservations, timers, API and CLI."""
