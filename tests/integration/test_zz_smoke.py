from decimal import Decimal
import requests
from tests.support.soap import *

def test_smoke(lms):
    c = lms.zeep("bank")
    r = c.service.RegisterCustomer(customerNumber="234774784")
    print(r)
    assert r.alreadyRegistered is False
    r2 = c.service.GetCustomer(customerNumber="234774784")
    print(r2)
    lms.register_scoring()
    loan = c.service.SubmitLoan(customerNumber="234774784", amount=Decimal("1000.00"), requestId="req-1")
    print(loan)
    st = c.service.GetLoanStatus(loanId=loan.loanId)
    print(st)
    ll = c.service.ListLoans(customerNumber="234774784")
    print(ll)
    s = lms.zeep("scoring")
    t = s.service.GetTransactions(customerNumber="234774784")
    print(len(t), t[0] if t else None)
    resp = requests.get(f"{lms.url}/api/v1/transactions/234774784", auth=lms.credentials("scoring"))
    print(resp.status_code, resp.text[:300])
    resp = post(lms.url, envelope("GetCustomer", "<tns:customerNumber>1</tns:customerNumber>"), basic(*lms.credentials("bank")))
    print(resp.status_code, resp.text)
