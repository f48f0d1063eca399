-- GetLoanStatus by loanId, cycling through the ids listed in BENCH_IDS_FILE (one per line: loans
-- the SubmitLoan run created, decided by then, so each answer carries a 3-event history). Role bank.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local next_n = c.sequence()
local ids = {}
setup, response, done = c.setup, c.response, c.done

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS_FILE")) do
    if #line > 0 then ids[#ids + 1] = line end
  end
end

function request()
  local id = ids[(next_n() % #ids) + 1]
  return c.post(c.envelope("urn:lms-soap:v1", "GetLoanStatus", "<tns:loanId>" .. id .. "</tns:loanId>"))
end
