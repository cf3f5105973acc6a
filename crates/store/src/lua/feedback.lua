-- Append one feedback document, keeping the newest ARGV[2].
-- KEYS: 1 feedback list; ARGV: 1 document, 2 documents kept
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return 1
