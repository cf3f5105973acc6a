-- wrk script: POST /state/user/{userID}/interact with a JSON body.
-- Each wrk thread cycles through its own USERS user ids, so turns of one user rarely overlap
-- (the per-user lock is exercised, not contended).
--   VERSION  versionID header (default: payment.vfr's version)
--   BODY     request body (default: a launch, a short turn: start, text, setV2, text, choice)
--   USERS    users per thread (default 1000)
local version = os.getenv("VERSION") or "64a1f0000000000000000002"
local body = os.getenv("BODY") or '{"action":{"type":"launch"}}'
local users = tonumber(os.getenv("USERS") or "1000")

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests = {}
local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["versionID"] = version
  -- Pre-format every request once: request() is then a table lookup, so the load generator
  -- (which shares the machine) spends as little CPU as possible.
  for u = 0, users - 1 do
    requests[u + 1] = wrk.format(nil, "/state/user/load-" .. tid .. "-" .. u .. "/interact")
  end
end

function request()
  counter = counter % users + 1
  return requests[counter]
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors == 1 then
      io.stderr:write("non-200 answer " .. status .. ": " .. body .. "\n")
    end
  end
end
