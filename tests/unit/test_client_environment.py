"""settle_environment (lms_soap/clients/environment.py): a session that read the environment once
sends what a session reading it on every call sends (proxies, CA bundle, netrc credentials)."""
from __future__ import annotations

import pytest
import requests

from lms_soap.clients.environment import settle_environment

CBS = "http://cbs.example.test:8093/service/customer"
LOCAL = "http://127.0.0.1:8094/api/v1/scoring"


def sent(session: requests.Session, url: str) -> tuple[dict, dict]:
    prepared = session.prepare_request(requests.Request("GET", url))
    settings = session.merge_environment_settings(prepared.url, {}, None, None, None)
    return settings, {k: v for k, v in prepared.headers.items() if k == "Authorization"}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine cbs.example.test login cbs-user password cbs-secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bank.pem")


@pytest.mark.parametrize("url", [CBS, LOCAL])
def test_a_settled_session_sends_what_a_trusting_one_sends(environment, url):
    settled = requests.Session()
    settle_environment(settled, url)
    assert settled.trust_env is False
    assert sent(settled, url) == sent(requests.Session(), url)


def test_endpoints_with_different_answers_keep_asking_the_environment(environment):
    session = requests.Session()
    settle_environment(session, CBS, LOCAL)  # one behind the proxy, one in NO_PROXY
    assert session.trust_env is True and session.proxies == {}
    for url in (CBS, LOCAL):
        assert sent(session, url) == sent(requests.Session(), url)


def test_a_session_with_its_own_credentials_does_not_take_netrc_ones(environment):
    session = requests.Session()
    session.auth = ("basic-user", "basic-secret")
    settle_environment(session, CBS)
    assert session.auth == ("basic-user", "basic-secret")
    trusting = requests.Session()
    trusting.auth = ("basic-user", "basic-secret")
    assert sent(session, CBS) == sent(trusting, CBS)
