-- Begin a turn: one round trip for "already processed?", the lock and the read.
-- KEYS: 1 session hash {v, d}, 2 lock, 3 idempotency hash
-- ARGV: 1 lock token, 2 lock TTL (ms), 3 idempotency key ('' = none)
-- Returns {2, stored response} when the idempotency key was already processed (no lock taken),
-- {1, version, state} or {1, '0'} (no session) when the lock was taken,
-- {0, lock PTTL} when another turn holds the lock.
if ARGV[3] ~= '' then
  local stored = redis.call('HGET', KEYS[3], ARGV[3])
  if stored then
    return {2, stored}
  end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local s = redis.call('HMGET', KEYS[1], 'v', 'd')
  if s[2] then
    return {1, s[1] or '0', s[2]}
  end
  return {1, '0'}
end
return {0, redis.call('PTTL', KEYS[2])}
