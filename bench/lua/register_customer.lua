-- RegisterCustomer: a new synthetic customer (CBS simulator, 700000000..799999999) per request,
-- BENCH_FIRST, BENCH_FIRST+1, ... (threads interleave). Role bank.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local next_n = c.sequence()
setup, response, done = c.setup, c.response, c.done

function request()
  local n = c.first + next_n()
  return c.post(c.envelope("urn:lms-soap:v1", "RegisterCustomer",
    string.format("<tns:customerNumber>%09d</tns:customerNumber>", n)))
end
