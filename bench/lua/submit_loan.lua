-- SubmitLoan: 1000.00 for a distinct pre-registered customer per request (BENCH_FIRST, +1, ...),
-- with a requestId (the ESB's idempotency key). Role bank.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local next_n = c.sequence()
setup, response, done = c.setup, c.response, c.done

function request()
  local n = c.first + next_n()
  return c.post(c.envelope("urn:lms-soap:v1", "SubmitLoan", c.submit_fields(n)))
end
