"""The Lua scripts that make each commit atomic in Redis. They know nothing of routing: the routing runs
in Python on each node's replica, and a script only checks that the node saw the latest change before
it writes the node's result. Two nodes therefore never both reserve one agent or one task: the second
commit finds the counter moved, is refused, and its node processes the event again on the new state.

KEYS, for every script: the keys of `schema.DATA`, in that order.
"""

from __future__ import annotations

#: ARGV: expected n, epoch, payload ("" = only check), stream length, entries to return when behind,
#: node id, turn length (ms), the writes joined by \x1e: "h" key field value | "d" key field | "z" key score
#: member | "r" key member. Replies: {"ok", n} | {"behind", n, entries} | {"yield", n} | {"epoch", epoch}.
COMMIT = r"""
local state = redis.call('HMGET', KEYS[1], 'n', 'epoch', 'turn', 'turn_until')
if state[2] ~= ARGV[2] then
  return {'epoch', state[2] or ''}
end
local n = tonumber(state[1])
local expected = tonumber(ARGV[1])
local node = ARGV[6]
local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
-- Read the clock only when a turn is at stake: most commits find none and race nobody.
local now = nil
local held = false
if state[3] and state[3] ~= '' then
  now = now_ms()
  held = tonumber(state[4]) > now
end
if n ~= expected then
  now = now or now_ms()
  -- The node that lost gets the next turn, or the node that won would win again and again: it has
  -- nothing to catch up before its next commit.
  if not held then
    redis.call('HSET', KEYS[1], 'turn', node, 'turn_until', now + tonumber(ARGV[7]))
  end
  local missing = redis.call('XRANGE', KEYS[2], (expected + 1) .. '-1', '+', 'COUNT', ARGV[5])
  return {'behind', tostring(n), missing}
end
if ARGV[3] == '' then
  return {'ok', tostring(n)}
end
if held and state[3] ~= node then
  return {'yield', tostring(n)}
end
-- The writes come as one argument, separated by \30: Redis packs one argument faster than thirty, and
-- the stream entry keeps the same text for the other nodes to replay.
local w = {}
for part in string.gmatch(ARGV[8], '[^\30]+') do
  w[#w + 1] = part
end
-- Check every write before the first: a script that fails half-way keeps the writes it made.
local sizes = {h = 4, d = 3, z = 4, r = 3}
local i = 1
while i <= #w do
  local size = sizes[w[i]]
  if size == nil or KEYS[tonumber(w[i + 1])] == nil or i + size - 1 > #w then
    return redis.error_reply('malformed write at ' .. i)
  end
  i = i + size
end
i = 1
while i <= #w do
  local op, key = w[i], KEYS[tonumber(w[i + 1])]
  if op == 'h' then
    redis.call('HSET', key, w[i + 2], w[i + 3])
  elseif op == 'd' then
    redis.call('HDEL', key, w[i + 2])
  elseif op == 'z' then
    redis.call('ZADD', key, w[i + 2], w[i + 3])
  else
    redis.call('ZREM', key, w[i + 2])
  end
  i = i + sizes[op]
end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n)
if state[3] == node then
  redis.call('HDEL', KEYS[1], 'turn', 'turn_until')
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], n .. '-1', 'c', ARGV[3], 'w', ARGV[8])
return {'ok', tostring(n)}
"""

#: ARGV: a new epoch. Creates the counters of an empty deployment; returns the epoch in force.
INIT = r"""
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'n', 0, 'seq', 0, 'latest', 0, 'events', 1)
end
return redis.call('HGET', KEYS[1], 'epoch')
"""

#: The whole state at one instant: counters, tasks, agents, waiting, idle, idle_entries, timers, queue_values.
SNAPSHOT = r"""
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('HGETALL', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
  redis.call('HGETALL', KEYS[7]),
  redis.call('ZRANGE', KEYS[8], 0, -1),
  redis.call('HGETALL', KEYS[9]),
}
"""
