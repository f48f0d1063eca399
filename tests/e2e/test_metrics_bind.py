"""METRICS_BIND through gunicorn: the metrics leave the service's address (404 there) and one
gunicorn worker serves them on their own address, with the request counters of every worker."""
from __future__ import annotations

import time

import requests

from lms_soap.bootstrap import build_container
from lms_soap.crypto import generate_secret
from lms_soap.lending.api_clients import add_client
from lms_soap.lending.model import Role
from lms_soap.sandbox.processes import http_probe, wait_ready
from tests.support.processes import Gunicorn
from tests.support.servers import free_port
from tests.support.soap import basic, envelope, faultcode, post

CALLS = 12


def test_metrics_are_served_on_their_own_address_for_every_worker(e2e_settings, tmp_path):
    bind = f"127.0.0.1:{free_port()}"
    settings = e2e_settings.replace(metrics_bind=bind)
    container = build_container(settings)
    admin = add_client("e2e-admin", Role.ADMIN, container.uow(), container.box, container.clock, generate_secret)
    with Gunicorn(settings, workers=2, extra_env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}) as gunicorn:
        gunicorn.child.ready = http_probe(f"http://{bind}/metrics")
        wait_ready([gunicorn.child], 20)
        body = envelope("GetCustomer", "<tns:customerNumber>318411216</tns:customerNumber>")
        answers = [post(gunicorn.url, body, basic(admin[0].username, admin[1])) for _ in range(CALLS)]
        assert {faultcode(a) for a in answers} == {"Client.CustomerNotRegistered"}

        on_service = requests.get(f"{gunicorn.url}/metrics", auth=(admin[0].username, admin[1]), timeout=10)
        sample = f'lms_soap_requests_total{{faultcode="Client.CustomerNotRegistered",operation="GetCustomer"}} {CALLS}.0'
        deadline = time.monotonic() + 10
        while True:  # counters are written by the workers as each response completes
            scraped = requests.get(f"http://{bind}/metrics", timeout=10)
            if sample in scraped.text or time.monotonic() > deadline:
                break
            time.sleep(0.2)

    assert on_service.status_code == 404
    assert scraped.status_code == 200
    assert sample in scraped.text, scraped.text  # both workers' requests, summed
    assert "lms_loans" in scraped.text and "lms_queue_depth" in scraped.text
    container.close()
