-- Shared by the per-operation wrk scripts (each one loads it with dofile).
-- Every request is a SOAP 1.1 POST to /soap with HTTP Basic credentials; the envelope varies per
-- request where the operation needs it (one customer per SubmitLoan, ...).
-- Environment: BENCH_BASIC (base64 of user:password), BENCH_THREADS (wrk -t), BENCH_FIRST,
-- BENCH_COUNT, BENCH_IDS_FILE (per script), BENCH_LUA_DIR (this folder).
local M = {}

M.headers = {
  ["Content-Type"] = "text/xml; charset=utf-8",
  ["Authorization"] = "Basic " .. (os.getenv("BENCH_BASIC") or ""),
}
M.threads = tonumber(os.getenv("BENCH_THREADS") or "1")
M.first = tonumber(os.getenv("BENCH_FIRST") or "0")
M.count = tonumber(os.getenv("BENCH_COUNT") or "0")

function M.envelope(ns, op, fields)
  return '<?xml version="1.0" encoding="UTF-8"?>'
    .. '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="' .. ns .. '">'
    .. '<soap:Body><tns:' .. op .. '>' .. fields .. '</tns:' .. op .. '></soap:Body></soap:Envelope>'
end

-- SubmitLoan's fields (the baseline posts the same ones, so both envelopes have the same size).
function M.submit_fields(n)
  return string.format('<tns:customerNumber>%09d</tns:customerNumber><tns:amount>1000.00</tns:amount>'
    .. '<tns:requestId>bench-%09d</tns:requestId>', n, n)
end

-- wrk calls setup() once per thread in the main Lua state: give each thread its index.
local next_index = 0
function M.setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
end

-- The k-th number of this thread: threads interleave, so no two requests share a number.
function M.sequence()
  local k = 0
  return function()
    local n = k * M.threads + (thread_index or 0)
    k = k + 1
    return n
  end
end

function M.post(body)
  if not M.body_bytes_shown then
    M.body_bytes_shown = true
    io.write("BENCH_BODY_BYTES " .. #body .. "\n")
  end
  return wrk.format("POST", "/soap", M.headers, body)
end

-- The first non-200 answer of each thread is printed, to tell why a run has errors.
local error_shown = false
function M.response(status, headers, body)
  if status ~= 200 and not error_shown then
    error_shown = true
    io.write("BENCH_FIRST_ERROR " .. status .. " " .. string.gsub(string.sub(body or "", 1, 600), "\n", " ") .. "\n")
  end
end

-- One JSON line with the figures the harness reads (latencies in microseconds).
function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end

return M
