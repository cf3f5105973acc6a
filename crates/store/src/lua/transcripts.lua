-- All transcripts of a project, oldest first.
-- KEYS: 1 transcripts hash, 2 order list
local ids = redis.call('LRANGE', KEYS[2], 0, -1)
local out = {}
for i = 1, #ids, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, #ids) do
    chunk[#chunk + 1] = ids[j]
  end
  local docs = redis.call('HMGET', KEYS[1], unpack(chunk))
  for j = 1, #chunk do
    if docs[j] then
      out[#out + 1] = docs[j]
    end
  end
end
return out
