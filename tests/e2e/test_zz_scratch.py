import time, logging
from decimal import Decimal
from tests.e2e.interop_support import background_worker

def test_proto(lms):
    lms.register_scoring()
    t0 = time.time()
    with background_worker(lms.settings):
        c = lms.zeep("bank")
        print("zeep client", time.time()-t0)
        r = c.service.RegisterCustomer(customerNumber="700000001")
        print(r)
        loan = c.service.SubmitLoan(customerNumber="700000001", amount=Decimal("1000.00"))
        print(loan)
        t1 = time.time()
        while True:
            st = c.service.GetLoanStatus(loanId=loan.loanId)
            if st.status not in ("PENDING", "SCORING"):
                break
            time.sleep(0.1)
        print("decided in", time.time()-t1, st.status, st.statusReason)
        try:
            c.service.SubmitLoan(customerNumber="700000001", amount=Decimal("1000.00"))
        except Exception as e:
            print(type(e), repr(e), getattr(e, "code", None), getattr(e, "detail", None))
