-- wrk script: POST the AdmissionReview in $BODY to /mutate; count answers that are not a review.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) malformed = 0 end
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
