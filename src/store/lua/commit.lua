-- Commit a turn: one round trip for the version-checked write, the idempotency record, the idle
-- TTL and the unlock. Nothing is written unless the lock is still ours and the version is the
-- one read at begin.
-- KEYS: 1 session hash {v, d}, 2 lock, 3 idempotency hash, 4 idempotency order list
-- ARGV: 1 lock token, 2 version read at begin, 3 'set' | 'del', 4 new state (set),
--       5 idle TTL in ms ('0' = no expiry), 6 idempotency key ('' = none), 7 response,
--       8 idempotency records kept per session
-- Returns 1 (stored, unlocked), -1 (the lock is not ours any more: nothing stored),
-- -2 (the version changed: nothing stored, unlocked).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[2] then
  redis.call('DEL', KEYS[2])
  return -2
end
if ARGV[3] == 'del' then
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
else
  redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1), 'd', ARGV[4])
  if ARGV[6] ~= '' and redis.call('HSETNX', KEYS[3], ARGV[6], ARGV[7]) == 1 then
    redis.call('RPUSH', KEYS[4], ARGV[6])
    if redis.call('LLEN', KEYS[4]) > tonumber(ARGV[8]) then
      redis.call('HDEL', KEYS[3], redis.call('LPOP', KEYS[4]))
    end
  end
  local ttl = tonumber(ARGV[5])
  for i = 1, 4 do
    if i ~= 2 then
      if ttl > 0 then
        redis.call('PEXPIRE', KEYS[i], ttl)
      else
        redis.call('PERSIST', KEYS[i])
      end
    end
  end
end
redis.call('DEL', KEYS[2])
return 1
