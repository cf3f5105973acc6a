-- One rate-limit check (GCRA, the algorithm of the in-memory limiter): a bucket allows `limit`
-- requests at once and regains one every `interval` microseconds. The key holds the bucket's
-- theoretical arrival time (TAT, microseconds of Redis' clock) and expires when the bucket is
-- full again. Redis' own clock (TIME) is used, so every server sees the same time.
-- KEYS: 1 bucket; ARGV: 1 interval in microseconds, 2 limit.
-- Returns {allowed (1/0), remaining, retry after (us), until full (us)}.
if redis.replicate_commands then
  redis.replicate_commands()
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * limit
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
