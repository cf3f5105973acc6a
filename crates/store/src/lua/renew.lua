-- Extend a lock only if it is still ours (a turn still running, e.g. waiting on an outbound call).
-- KEYS: 1 lock; ARGV: 1 lock token, 2 TTL in ms. Returns 1 when extended, 0 when the lock is gone.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
