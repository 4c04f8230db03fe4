-- wrk script for bench/run.py: one request, repeated; a JSON summary at the end.
--   wrk ... -s bench/wrk.lua URL -- METHOD PATH TOKEN [BODY]
-- The body, if any, is a JSON text; "{n}" in it becomes a counter per thread.

local method, path, token, body

function init(args)
  method, path, token, body = args[1], args[2], args[3], args[4]
  counter = 0
end

function request()
  local headers = {["X-Auth-Token"] = token, ["Accept"] = "application/json"}
  local payload = nil
  if body ~= nil and body ~= "" then
    counter = counter + 1
    payload = string.gsub(body, "{n}", tostring(counter))
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, payload)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
