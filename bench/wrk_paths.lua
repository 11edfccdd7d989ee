-- wrk script of bench/timeline_bench.py: each request GETs a random path from a file, with a
-- random session cookie from another file; at the end it prints one line of JSON (WRK_JSON ...).
-- Usage: wrk -s bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE COOKIES_FILE

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local paths, cookies = {}, {}

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  for line in io.lines(args[2]) do cookies[#cookies + 1] = "sessionid=" .. line end
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], {["Cookie"] = cookies[math.random(#cookies)]})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
