"""/metrics gives the bank's loan volumes: only to an admin API client (HTTP Basic), or on an address
of its own (METRICS_BIND), where the service's address then answers 404."""
from __future__ import annotations

import pytest
import requests

from lms_soap.app import create_app
from lms_soap.web.metrics_server import start_metrics_server
from tests.integration.test_audit import audit_rows
from tests.support.servers import free_port, serve_wsgi


def scrape(url: str, auth=None) -> requests.Response:
    return requests.get(f"{url}/metrics", auth=auth, timeout=10)


def test_an_admin_client_reads_the_metrics(lms):
    lms.register_customers("234774784")

    response = scrape(lms.url, lms.credentials("admin"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "lms_loans" in response.text and "lms_queue_depth" in response.text


def test_without_admin_credentials_the_metrics_are_refused_and_the_refusal_recorded(lms):
    username, secret = lms.credentials("admin")

    anonymous = scrape(lms.url)
    wrong = scrape(lms.url, (username, "Wr0ng-" + secret))
    bank = scrape(lms.url, lms.credentials("bank"))
    scoring = scrape(lms.url, lms.credentials("scoring"))

    assert [r.status_code for r in (anonymous, wrong, bank, scoring)] == [401, 401, 403, 403]
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="lms-soap"'
    assert all("lms_loans" not in r.text for r in (anonymous, wrong, bank, scoring))
    rows = [(r["operation"], r["outcome"], r["principal"]) for r in audit_rows(lms)]
    assert rows == [("REST:metrics", "Client.AuthenticationFailed", None),
                    ("REST:metrics", "Client.AuthenticationFailed", None),
                    ("REST:metrics", "Client.NotAuthorized", lms.credentials("bank")[0]),
                    ("REST:metrics", "Client.NotAuthorized", lms.credentials("scoring")[0])]


@pytest.fixture
def metrics_bind():
    return f"127.0.0.1:{free_port()}"


def test_with_metrics_bind_the_metrics_leave_the_service_address(lms, metrics_bind):
    settings = lms.settings.replace(metrics_bind=metrics_bind)
    lms.container.settings = settings
    with serve_wsgi(create_app(settings, lms.container)) as url:
        assert scrape(url, lms.credentials("admin")).status_code == 404
        assert scrape(url).status_code == 404
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200

    server = start_metrics_server(metrics_bind, lms.container)
    try:
        served = requests.get(f"http://{metrics_bind}/metrics", timeout=10)
        assert served.status_code == 200
        assert "lms_loans" in served.text and "lms_soap_requests_total" in served.text
        # another gunicorn worker starting finds the address served and leaves it
        assert start_metrics_server(metrics_bind, lms.container) is None
    finally:
        server.shutdown()
        server.server_close()
