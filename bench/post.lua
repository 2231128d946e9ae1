-- wrk script: POST the AdmissionReview in $BODY to /mutate; count answers that are not a review.
-- Every request carries its own request.uid, its own service-account token volume name
-- (kube-api-access-xxxxx, in the volumes and the mounts) and its own managedFields time (the
-- field manager's, to the second), as the API server writes them for each pod: with VARY=uid
-- (the default) the reviews are those of one workload's replicas created over a quarter of an
-- hour (the same pod, not yet named); with VARY=pod each is another pod in every field a real
-- cluster varies: its generateName, its pod-template-hash label, its image tag, and its time.
-- The requests are built once per thread (1,000 of them, taken in turn), not per request.
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("*a")
f:close()
local vary = os.getenv("VARY") or "uid"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end
function init(args)
  malformed = 0
  requests = {}
  for i = 1, 1000 do
    local uid = string.format("b1f0c2d3-%04x-4e5f-8a9b-%012x", id, i)
    local b, n = body:gsub('"request":{"uid":"[^"]*"', '"request":{"uid":"' .. uid .. '"', 1)
    assert(n == 1, "no request uid in " .. os.getenv("BODY"))
    local token = string.format("%05x", (id * 7919 + i * 104729) % 1048576):gsub("[0-9]", function(d)
      return string.sub("bcdfghjklm", tonumber(d) + 1, tonumber(d) + 1)
    end)
    b = b:gsub("kube%-api%-access%-%w%w%w%w%w", "kube-api-access-" .. token)
    local t = (id * 1000 + i) % 900
    b, n = b:gsub('"time":"2026%-12%-06T13:45:00Z"', string.format('"time":"2026-12-06T13:%02d:%02dZ"', 45 + math.floor(t / 60) % 15, t % 60), 1)
    assert(n == 1, "no managedFields time in " .. os.getenv("BODY"))
    if vary == "pod" then
      local pod = id * 1000000 + i
      b, n = b:gsub('"generateName":"[^"]*"', string.format('"generateName":"reader-%09x-"', pod), 1)
      assert(n == 1, "no generateName in " .. os.getenv("BODY"))
      b, n = b:gsub('"pod%-template%-hash":"[^"]*"', string.format('"pod-template-hash":"%09x"', pod), 1)
      assert(n == 1, "no pod-template-hash label in " .. os.getenv("BODY"))
      b, n = b:gsub('"image":"python:3%.12%-slim"', string.format('"image":"python:3.12.%d-slim"', pod % 1000), 1)
      assert(n == 1, "no python image in " .. os.getenv("BODY"))
    end
    requests[i] = wrk.format(nil, nil, nil, b)
  end
  next_request = 0
end
function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
function response(status, headers, body)
  if status == 200 and not string.find(body, '"uid":', 1, true) then malformed = malformed + 1 end
end
function done(summary, latency, requests)
  local m = 0
  for _, t in ipairs(threads) do m = m + t:get("malformed") end
  io.write(string.format("requests %d  errors %d  non-2xx %d  malformed %d  req/s %.0f  p50 %.2f ms  p99 %.2f ms\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, m, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
