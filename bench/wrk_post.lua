-- wrk script for bench/bench_http.py: POSTs pre-built requests, each one once.
--
--   wrk -t1 -c20 -d10s -s bench/wrk_post.lua http://127.0.0.1:PORT/path -- REQUESTS_FILE THREADS
--
-- REQUESTS_FILE has one request per line: tab-separated "Name: value" headers, then the body
-- (JSON, so it holds no tab or newline). Thread k of THREADS sends lines k+1, k+1+THREADS, ...;
-- when a thread has sent all of its lines it repeats its last one (the bench counts the replies
-- that reach its fakes, so a repeat that is dropped shows). At the end one line starting with
-- WRKJSON gives the totals as JSON.

local threads = {}
local requests = {}
local sent = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function parse(line)
  local headers = {}
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    table.insert(fields, field)
  end
  for i = 1, #fields - 1 do
    local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  return wrk.format("POST", nil, headers, fields[#fields])
end

function init(args)
  local count = tonumber(args[2]) or 1
  local n = 0
  for line in io.lines(args[1]) do
    if n % count == id then
      table.insert(requests, parse(line))
    end
    n = n + 1
  end
end

function request()
  sent = sent + 1
  return requests[math.min(sent, #requests)]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
