-- Upsert one transcript if it is still the one the caller read (compare and set).
-- KEYS: 1 transcripts hash {sessionID: JSON}, 2 order list of sessionIDs
-- ARGV: 1 sessionID, 2 the document read ('' = none), 3 new document, 4 transcripts kept
-- Returns 1 (stored) or 0 (changed since read: read again).
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if not current then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  local cap = tonumber(ARGV[4])
  while redis.call('LLEN', KEYS[2]) > cap do
    redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
  end
end
return 1
