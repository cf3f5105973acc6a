-- Commit a turn. Sent in one pipeline after PSETEX of the staged state (and response), so the
-- large values never pass through Lua: they are RENAMEd into place. Nothing is written unless
-- the lock is still ours and the version is the one read at begin.
-- KEYS: 1 state, 2 version, 3 lock, 4 staged state, 5 idempotency key list,
--       6 staged response, 7 idempotency record (KEYS[6], KEYS[7]: any name when unused)
-- ARGV: 1 lock token, 2 version read at begin, 3 'set' | 'del', 4 idle TTL in ms ('0': none),
--       5 idempotency key ('' = none), 6 idempotency records kept, 7 record key prefix
-- Returns 1 (stored, unlocked), -1 (the lock is not ours any more: nothing stored),
-- -2 (the version changed: nothing stored, unlocked), -3 (the staged state is missing: nothing
-- stored, unlocked).
local function discard()
  redis.call('DEL', KEYS[4], KEYS[6])
end
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  discard()
  return -1
end
local v = redis.call('GET', KEYS[2]) or '0'
if v ~= ARGV[2] then
  discard()
  redis.call('DEL', KEYS[3])
  return -2
end
local ttl = tonumber(ARGV[4])
local function expire(key)
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
end
if ARGV[3] == 'del' then
  for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
    redis.call('DEL', ARGV[7] .. id)
  end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
  discard()
else
  if redis.call('EXISTS', KEYS[4]) == 0 then
    discard()
    redis.call('DEL', KEYS[3])
    return -3
  end
  redis.call('RENAME', KEYS[4], KEYS[1])
  redis.call('INCR', KEYS[2])
  expire(KEYS[1])
  expire(KEYS[2])
  if ARGV[5] ~= '' and redis.call('EXISTS', KEYS[6]) == 1 then
    if redis.call('EXISTS', KEYS[7]) == 0 then
      redis.call('RENAME', KEYS[6], KEYS[7])
      expire(KEYS[7])
      redis.call('RPUSH', KEYS[5], ARGV[5])
      if redis.call('LLEN', KEYS[5]) > tonumber(ARGV[6]) then
        redis.call('DEL', ARGV[7] .. redis.call('LPOP', KEYS[5]))
      end
      expire(KEYS[5])
    else
      redis.call('DEL', KEYS[6])
    end
  end
end
redis.call('DEL', KEYS[3])
return 1
