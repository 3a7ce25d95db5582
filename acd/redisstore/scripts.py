"""The Lua scripts that make each commit atomic in Redis. They know nothing of routing: the routing runs
in Python on each node's replica, and a script only checks that the node saw the latest change before
it writes the node's result. Two nodes therefore never both reserve one agent or one task: the second
commit finds the counter moved, is refused, and its node processes the event again on the new state.

KEYS, for every script: the keys of `schema.DATA`, in that order.
"""

from __future__ import annotations

#: ARGV: expected n, epoch, payload ("" = only check), stream length, entries to return when behind,
#: node id, turn length (ms), the writes (groups joined by \x1e, as `schema` says).
#: Replies: n (written, or checked when the payload is empty) | {"behind", n, entries} | {"yield", n} |
#: {"epoch", epoch}.
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
  return n
end
if held and state[3] ~= node then
  return {'yield', tostring(n)}
end
-- The writes come as one argument, separated by \30: Redis packs one argument faster than thirty, and
-- the stream entry keeps the same text for the other nodes to replay. A plain find is a memchr; a
-- pattern would test every byte in Lua.
local text, w, at, find, sub = ARGV[8], {}, 1, string.find, string.sub
while at <= #text do
  local stop = find(text, '\30', at, true) or #text + 1
  w[#w + 1] = sub(text, at, stop - 1)
  at = stop + 1
end
-- Groups of writes: op, key, count, then count entries of WIDTH[op] items. Check every group before the
-- first write: a script that fails half-way keeps the writes it made.
local COMMAND = {h = 'HSET', d = 'HDEL', z = 'ZADD', r = 'ZREM'}
local WIDTH = {h = 2, d = 1, z = 2, r = 1}
if w[1] ~= 'h' or w[2] ~= '1' then
  return redis.error_reply('malformed write at 1: the counters come first')  -- n is set with them
end
local i = 1
while i <= #w do
  local width, count = WIDTH[w[i]], tonumber(w[i + 2])
  if width == nil or KEYS[tonumber(w[i + 1])] == nil or count == nil or count < 1 or count % 1 ~= 0
      or i + 2 + count * width > #w then
    return redis.error_reply('malformed write at ' .. i)
  end
  i = i + 3 + count * width
end
-- One command per group; unpack puts its items on Lua's C stack (8,000 at most), so a large group (a
-- mass expiry) goes in slices. The counters' group, first, also sets the new n.
local unpack, SLICE = unpack, 4000
n = n + 1
i = 1
while i <= #w do
  local op, key, count = w[i], KEYS[tonumber(w[i + 1])], tonumber(w[i + 2])
  local first, last = i + 3, i + 2 + count * WIDTH[op]
  while first <= last do
    local stop = math.min(last, first + SLICE - 1)
    if first == 4 then
      redis.call('HSET', key, 'n', n, unpack(w, first, stop))
    else
      redis.call(COMMAND[op], key, unpack(w, first, stop))
    end
    first = stop + 1
  end
  i = last + 1
end
if state[3] == node then
  redis.call('HDEL', KEYS[1], 'turn', 'turn_until')
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], n .. '-1', 'c', ARGV[3], 'w', ARGV[8])
return n  -- a bare integer: the reply of nearly every commit, and the cheapest to read
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
