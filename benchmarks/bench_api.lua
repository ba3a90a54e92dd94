-- wrk script of benchmarks/bench_api.py: every request a new payment through POST /api/v1/payments
-- (its own Idempotency-Key and reference), every answer checked (200 and "result":"posted").
--
-- wrk -s benchmarks/bench_api.lua URL -- NIKS_FILE AMOUNTS DAY TAG TOKEN THREADS
--   NIKS_FILE  one NIK per line (registered today by the partner, nothing paid yet)
--   AMOUNTS    comma-separated amount of one month for the 1st, 2nd, ... payment of a NIK
--   DAY        paid_on (YYYY-MM-DD); TAG prefix of references; TOKEN the partner's API token
-- Request i (over all threads) pays NIK i mod N, month i div N: a NIK's next month is paid only
-- after every other NIK got its previous one, so one participant is never paid twice at once.
-- The LAST NIK of the file is a spare, outside that cycle: wrk (Debian's 4.1) asks each thread
-- for one request more than it sends, its first (seen in the ledger: R1-1 never arrived), so
-- each thread's first request pays the spare's first month; whether or not it is sent, no NIK
-- of the cycle then misses a month (which would shift its later months to the wrong amounts).

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  niks = {}
  for line in io.lines(args[1]) do
    niks[#niks + 1] = line
  end
  amounts = {}
  for value in string.gmatch(args[2], "[^,]+") do
    amounts[#amounts + 1] = value
  end
  day, tag, token, nthreads = args[3], args[4], args[5], tonumber(args[6])
  n, posted, bad, first_bad = -1, 0, 0, ""
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  local cycle = #niks - 1
  if n < 0 then -- this thread's first request: the spare (paid at most once per thread)
    n = 0
    local reference = tag .. id .. "-spare"
    headers["Idempotency-Key"] = reference
    local body = '{"nik":"' .. niks[#niks] .. '","amount":' .. amounts[1]
      .. ',"paid_on":"' .. day .. '","reference":"' .. reference .. '","channel":"brilink"}'
    return wrk.format("POST", "/api/v1/payments", headers, body)
  end
  local i = n * nthreads + (id - 1)
  n = n + 1
  local month = math.floor(i / cycle) + 1
  if month > #amounts then
    month = #amounts -- out of participants: the server refuses it and the run reports an error
  end
  local reference = tag .. id .. "-" .. n
  headers["Idempotency-Key"] = reference
  local body = '{"nik":"' .. niks[(i % cycle) + 1] .. '","amount":' .. amounts[month]
    .. ',"paid_on":"' .. day .. '","reference":"' .. reference .. '","channel":"brilink"}'
  return wrk.format("POST", "/api/v1/payments", headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"result":"posted"', 1, true) then
    posted = posted + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local p, b, fb = 0, 0, ""
  for _, thread in ipairs(threads) do
    p = p + thread:get("posted")
    b = b + thread:get("bad")
    local f = thread:get("first_bad")
    if fb == "" and f ~= "" then
      fb = f
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"status":%d,"timeout":%d,"posted":%d,"bad":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    p, b, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
  io.write("WRKFIRSTBAD " .. fb .. "\n")
end
