-- GetTransactions (read live from the CBS simulator) for customers BENCH_FIRST .. BENCH_FIRST +
-- BENCH_COUNT - 1 in turn (1 to 3 records of 72 fields each). Role scoring.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local next_n = c.sequence()
setup, response, done = c.setup, c.response, c.done

function request()
  local n = c.first + (next_n() % c.count)
  return c.post(c.envelope("urn:lms-soap:v1", "GetTransactions",
    string.format("<tns:customerNumber>%09d</tns:customerNumber>", n)))
end
