"""The routing core's parts, one module per concept (the public entry is `acd.router.Router`).

- `topology`: the deployment as plain data, and the resolver of transfer targets;
- `places`: a task's places, their allowed moves, and the one function that moves a task;
- `state`: what one event's processing shares (store, topology, decisions made, clock), and the lookups;
- `offers`: finding work for agents and agents for work, offers and their end, agents' derived state;
- `tasks`: arrivals, admission to a queue (decided before it is carried out), cancellations, call-backs;
- `handling`: an answered task's end with its agent, the wrap-up, the handle time;
- `transfers`: a task handed in one step to another queue or to an outside number;
- `presence`: agents logging in and out, ready, not ready, phones, headsets, lost nodes;
- `timers`: firing the timers that are due.
"""
