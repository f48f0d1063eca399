-- The bare-Spyne baseline (bench/baseline_app.py): SubmitLoan's fields, same envelope size.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local next_n = c.sequence()
setup, response, done = c.setup, c.response, c.done

function request()
  local n = c.first + next_n()
  return c.post(c.envelope("urn:lms-bench:0", "BareLoanOp", c.submit_fields(n)))
end
