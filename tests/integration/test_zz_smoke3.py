import time
from decimal import Decimal
from jobs import context
from jobs.worker import run_worker
from tests.support.soap import *

def test_pipeline(lms):
    c = lms.zeep("bank")
    lms.register_scoring()
    for n in ["234774784", "318411216", "340397370", "397178638"]:
        c.service.RegisterCustomer(customerNumber=n)
        c.service.SubmitLoan(customerNumber=n, amount=Decimal("1000.00"))
    t0 = time.time()
    while time.time() - t0 < 20:
        run_worker(lms.settings, burst=True)
        statuses = [c.service.GetLoanStatus(customerNumber=n) for n in ["234774784", "318411216", "340397370", "397178638"]]
        print([(s.status, s.statusReason, s.scoringAttempts) for s in statuses])
        if all(s.status not in ("PENDING", "SCORING") for s in statuses):
            break
        time.sleep(0.3)
    print(statuses[0])
