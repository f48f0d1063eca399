"""The ceiling the LMS is measured against: a bare Spyne application, one operation, no work.

    gunicorn 'bench.baseline_app:application'   (the harness runs it with the LMS's gunicorn command)

The operation takes the same three fields as SubmitLoan (customerNumber with the same pattern, a
2-decimal amount, a requestId) in a namespace of the same length, so bench/lua/baseline.lua posts
an envelope of exactly the size of bench/lua/submit_loan.lua's. The input is validated with
validator='lxml' as the LMS's is, and the answer is one short element. No authentication, no
database, no logging: what is left is Spyne + lxml + gunicorn, the part of a request the LMS
cannot make cheaper.
"""
from __future__ import annotations

from spyne import Application, Decimal, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

#: Same length as the LMS's urn:lms-soap:v1, so the envelopes have the same size.
TNS = "urn:lms-bench:0"

CustomerNumber = Unicode(min_len=1, max_len=32, pattern=r"[A-Za-z0-9\-]{1,32}", min_occurs=1,
                         nillable=False)
Amount = Decimal(total_digits=18, fraction_digits=2, gt=0, min_occurs=1, nillable=False)
RequestId = Unicode(min_len=1, max_len=64, pattern=r"[A-Za-z0-9._:\-]{1,64}")


class BaselineService(ServiceBase):
    # "BareLoanOp" has as many letters as "SubmitLoan".
    @rpc(CustomerNumber, Amount, RequestId, _returns=Unicode, _out_variable_name="status")
    def BareLoanOp(ctx, customerNumber, amount, requestId):  # noqa: N802,N803 (wire names)
        return "OK"


def create_app() -> WsgiApplication:
    app = Application([BaselineService], tns=TNS, name="BaselineService",
                      in_protocol=Soap11(validator="lxml"), out_protocol=Soap11())
    return WsgiApplication(app)


application = create_app()
