"""The correlation id (issue 13, item 5): taken from X-Request-ID or, without one, from the
envelope's WS-Addressing MessageID; echoed in the answer, written in the audit row, carried into
the scoring job the request queues, and sent as X-Request-ID on outbound calls."""
from __future__ import annotations

import requests_mock
from redis import Redis
from rq import Queue
from sqlalchemy import select

from lms_soap import correlation
from lms_soap.clients.bank_callback import build_session
from lms_soap.clients.core_banking import ZeepCoreBanking
from lms_soap.clients.deadline import DeadlineSession
from lms_soap.clients.rq_queue import RqJobQueue
from lms_soap.models.tables import audit_log
from tests.support.soap import basic, envelope, post

WSA = "http://www.w3.org/2005/08/addressing"
CUSTOMER = "318411216"
MESSAGE_ID = "urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da"


def register(lms, header: str = "", extra_headers: dict | None = None):
    body = envelope("RegisterCustomer", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>", header)
    return post(lms.url, body, {**basic(*lms.credentials("bank")), **(extra_headers or {})})


def audited_request_ids(lms) -> list[str]:
    with lms.container.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.request_id).order_by(audit_log.c.id)).scalars())


def test_a_ws_addressing_message_id_names_the_request_when_no_x_request_id_came(lms):
    header = f'<wsa:MessageID xmlns:wsa="{WSA}">{MESSAGE_ID}</wsa:MessageID>'
    response = register(lms, header)
    assert response.status_code == 200, response.content[:300]
    assert response.headers["X-Request-ID"] == MESSAGE_ID
    assert audited_request_ids(lms) == [MESSAGE_ID]


def test_x_request_id_wins_over_the_message_id(lms):
    header = f'<wsa:MessageID xmlns:wsa="{WSA}" soap:mustUnderstand="1">{MESSAGE_ID}</wsa:MessageID>'
    response = register(lms, header, {"X-Request-ID": "esb-4711"})
    assert response.status_code == 200, response.content[:300]  # MessageID is a header we understand
    assert response.headers["X-Request-ID"] == "esb-4711"
    assert audited_request_ids(lms) == ["esb-4711"]


def test_an_unusable_message_id_is_not_taken(lms):
    header = f'<wsa:MessageID xmlns:wsa="{WSA}">not usable: spaces and {"x" * 80}</wsa:MessageID>'
    response = register(lms, header)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] != MESSAGE_ID and correlation.usable(response.headers["X-Request-ID"])


def test_the_scoring_job_a_request_queues_carries_its_id(flushed_redis):
    redis = Redis.from_url(flushed_redis)
    queue = RqJobQueue(redis, "lms-correlation-test")
    with correlation.bound("esb-4712"):
        queue.schedule_scoring("LN1")
    queue.schedule_scoring("LN2")  # no request in hand: nothing to carry
    jobs = {job.args[0]: job for job in Queue("lms-correlation-test", connection=redis).jobs}
    assert jobs["LN1"].kwargs == {"request_id": "esb-4712"}
    assert jobs["LN2"].kwargs == {}


def test_outbound_calls_send_the_current_id():
    session = DeadlineSession(5)
    with requests_mock.Mocker() as mock:
        mock.get("http://engine.test/x", text="ok")
        with correlation.bound("esb-4713"):
            session.get("http://engine.test/x")
        session.get("http://engine.test/x")
    sent = [request.headers.get("X-Request-ID") for request in mock.request_history]
    assert sent == ["esb-4713", None]


def test_every_outbound_client_uses_the_correlating_session(lms):
    container = lms.container
    assert isinstance(container.scoring_engine.session, DeadlineSession)
    assert isinstance(container.cbs, ZeepCoreBanking) and isinstance(container.cbs._session, DeadlineSession)
    assert isinstance(build_session(lms.settings), DeadlineSession)  # the bank callback's
