"""The container is the only composition root: a job finds the worker's container or fails
clearly; closing the container closes every connection the process opened; the CLI loads its
settings once and hands them to the command."""
from __future__ import annotations

import pytest

from lms_soap import cli
from lms_soap.bootstrap import Container
from lms_soap.config import load_settings

from .fakes import FakeJobQueue, secret_box


class Closable:
    def __init__(self, log: list[str], name: str):
        self.log, self.name = log, name

    def close(self) -> None:
        self.log.append(self.name)

    def dispose(self) -> None:  # the engine's pool
        self.log.append(self.name)


def test_a_job_without_an_installed_container_fails_clearly_instead_of_building_one(monkeypatch):
    from jobs import context

    monkeypatch.setattr(context, "_container", None)
    with pytest.raises(RuntimeError, match="no container installed"):
        context.current()


def test_the_installed_container_is_the_one_jobs_get(monkeypatch):
    from jobs import context

    marker = object()
    monkeypatch.setattr(context, "_container", None)
    context.install(marker)
    try:
        assert context.current() is marker
    finally:
        context.install(None)


def test_closing_the_container_closes_every_client_and_the_pool():
    log: list[str] = []
    container = Container(settings=load_settings({}), engine=Closable(log, "engine"), uow=None,
                          cbs=Closable(log, "cbs"), scoring_engine=Closable(log, "scoring"),
                          queue=FakeJobQueue(), box=secret_box(), redis=Closable(log, "redis"),
                          notifier=Closable(log, "notifier"))
    container.close()
    assert sorted(log) == ["cbs", "engine", "notifier", "redis", "scoring"]


def test_the_real_clients_can_be_closed():
    from lms_soap.clients.bank_callback import SoapBankNotifier
    from lms_soap.clients.core_banking import ZeepCoreBanking
    from lms_soap.clients.scoring_engine import HttpScoringEngine

    for client in (ZeepCoreBanking, HttpScoringEngine, SoapBankNotifier):
        assert callable(getattr(client, "close", None)), client


def test_the_cli_loads_the_settings_once_and_gives_them_to_the_command(monkeypatch):
    calls, seen = [], []

    def counting_load(*args, **kwargs):
        calls.append(1)
        return load_settings({})

    monkeypatch.setattr(cli, "load_settings", counting_load)
    monkeypatch.setattr(cli, "cmd_reconcile", lambda a: seen.append(a.settings) or 0)
    assert cli.main(["reconcile"]) == 0
    assert len(calls) == 1 and seen and seen[0].public_url == "http://127.0.0.1:8000"
