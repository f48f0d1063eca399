"""The `lms-soap` command: serve, worker, db, clients, scoring, reconcile, wsdl, simulate, sandbox, demo."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lms_soap.config import (DEFAULT_PUBLIC_URL, DEV_SECRET_KEY, ConfigError, Settings, environ_for,
                             load_settings, require_production_key)
from lms_soap.logs import configure_logging

#: Where `lms-soap wsdl export` writes: the committed file, relative to the current directory (the
#: root of a checkout). Never relative to the installed package: that is site-packages.
DEFAULT_WSDL_PATH = Path("wsdl") / "lms.wsdl"
#: ... and the bank callback's WSDL (NotifyLoanEvent), with the placeholder address.
DEFAULT_CALLBACK_WSDL_PATH = Path("wsdl") / "lms-callback.wsdl"


def _container(a):
    """The command's container, from the settings main() loaded (once per process)."""
    from lms_soap.bootstrap import build_container

    return build_container(a.settings)


#: Every gunicorn of the project takes all its settings from this module (lms_soap/gunicorn_conf.py).
GUNICORN_CONF = "python:lms_soap.gunicorn_conf"


#: The LMS's WSGI entry point. It writes its own access line (JSON, with the request id, the
#: operation and the principal: lms_soap/app.py), so gunicorn writes none for it.
LMS_APP = "lms_soap.wsgi:application"


def gunicorn_argv(app_spec: str) -> list[str]:
    """gunicorn serving `app_spec` with the project's conf: `lms-soap serve` and `simulate`, the
    sandbox, the e2e tests and bench/. What differs between them is settings, in its environment
    (serve_environment), and gunicorn's access log on stdout for every app but the LMS."""
    access = [] if app_spec == LMS_APP else ["--access-logfile", "-"]
    return [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONF, *access, app_spec]


#: The C allocator's settings of every gunicorn started here (see serve_environment).
MALLOC_DEFAULTS = {"MALLOC_ARENA_MAX": "2"}


def serve_environment(environ, bind: str, workers: int, threads: int) -> dict[str, str]:
    """`environ` plus the settings of one gunicorn: the conf reads them, and so do the application's
    workers (DB_POOL_SIZE follows LMS_THREADS).

    MALLOC_ARENA_MAX=2 unless `environ` sets it: glibc gives each thread that allocates its own
    malloc arena (up to 8 per core), and a gthread worker's request threads each kept one, partly
    empty, for good (bench/README.md: the RSS of a worker after a run)."""
    return {**MALLOC_DEFAULTS, **environ,
            **environ_for(serve_bind=bind, serve_workers=workers, serve_threads=threads)}


def _gunicorn(app_spec: str, bind: str, workers: int, threads: int) -> None:
    os.execve(sys.executable, gunicorn_argv(app_spec), serve_environment(os.environ, bind, workers, threads))


def cmd_serve(a) -> int:
    _gunicorn("lms_soap.wsgi:application", a.bind, a.workers, a.threads)
    return 0


def cmd_worker(a) -> int:
    from jobs.worker import run_worker

    run_worker(a.settings, burst=a.burst)
    return 0


def cmd_db(a) -> int:
    from lms_soap.models import migrate
    from lms_soap.models.db import build_engine

    engine = build_engine(a.settings)
    try:
        if a.action == "upgrade":
            migrate.upgrade(engine, a.revision or "head")
        elif a.action == "downgrade":
            migrate.downgrade(engine, a.revision or "-1")
        print(f"database at revision {migrate.current(engine)}")
    finally:
        engine.dispose()
    return 0


def cmd_clients(a) -> int:
    from lms_soap.crypto import generate_secret
    from lms_soap.lending import api_clients
    from lms_soap.lending.model import Role

    c = _container(a)
    try:
        if a.action == "add":
            client, secret = api_clients.add_client(a.username, Role(a.role), c.uow(), c.box, c.clock,
                                                    generate_secret, a.description, rotate=a.rotate)
            print(json.dumps({"username": client.username, "role": client.role.value, "password": secret}))
            print("The password is shown once and stored only as a hash.", file=sys.stderr)
        elif a.action == "list":
            for client in api_clients.list_clients(c.uow()):
                state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "active"
                print(f"{client.username:24} {client.role.value:8} {state}")
        elif a.action == "revoke":
            api_clients.revoke_client(a.username, c.uow(), c.clock)
            print(f"revoked {a.username}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        c.close()
    return 0


def cmd_scoring(a) -> int:
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.errors import LendingError
    from lms_soap.lending.registration import register_with_scoring_engine

    c = _container(a)
    try:
        reg = register_with_scoring_engine(a.name, a.url, c.uow(), c.scoring_engine, c.box, c.clock,
                                           generate_secret, defaults=c.registration_defaults)
    except LendingError as exc:
        print(f"error: {exc.faultcode}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        c.close()
    print(json.dumps({"clientId": reg.client_id, "name": reg.name, "url": reg.url,
                      "username": reg.username, "registeredAt": reg.registered_at.isoformat()}))
    return 0


def cmd_reconcile(a) -> int:
    from jobs.reconciler import run_once

    with _container(a) as c:
        report = run_once(c)
    print(json.dumps({"requeued": report.requeued, "failed": report.failed, "queueDown": report.queue_down}))
    return 0


def cmd_wsdl(a) -> int:
    from lms_soap.services.application import build_soap_application
    from lms_soap.services.callback_wsdl import build_callback_wsdl
    from lms_soap.services.wsdl_document import build_wsdl

    # The committed wsdl/lms.wsdl carries the default address whatever LMS_PUBLIC_URL the shell
    # has (the drift test compares it with a server on defaults); --public-url for a deployment.
    soap_url = (a.public_url or DEFAULT_PUBLIC_URL).rstrip("/") + "/soap"
    if a.callback_output is None:
        a.callback_output = "none" if a.output == "-" else str(DEFAULT_CALLBACK_WSDL_PATH)
    wsdl = build_wsdl(build_soap_application(), soap_url)
    if a.output == "-":
        sys.stdout.buffer.write(wsdl)
    else:
        output = Path(a.output)
        if not output.parent.is_dir():
            print(f"error: no folder {output.parent}/ here: run from the root of a checkout, or give "
                  "--output FILE (- for standard output)", file=sys.stderr)
            return 2
        output.write_bytes(wsdl)
        print(f"wrote {a.output} (soap:address {soap_url})")
    if a.callback_output != "none":
        # The committed copy carries the placeholder address whatever BANK_CALLBACK_URL is set
        # (its types are the service WSDL's: the --public-url changes nothing in it).
        callback = Path(a.callback_output)
        if not callback.parent.is_dir():
            print(f"error: no folder {callback.parent}/ for the callback WSDL (--callback-output FILE, "
                  "or none)", file=sys.stderr)
            return 2
        callback.write_bytes(build_callback_wsdl(wsdl))
        print(f"wrote {a.callback_output} (the bank's NotifyLoanEvent endpoint)")
    return 0


def cmd_simulate(a) -> int:
    port = a.port or {"cbs": 8093, "scoring": 8094}[a.system]
    spec = {"cbs": "lms_soap.sandbox.cbs_simulator:create_app_from_env()",
            "scoring": "lms_soap.sandbox.scoring_simulator:create_app_from_env()"}[a.system]
    # One process: the simulators keep their state in memory.
    _gunicorn(spec, f"{a.host}:{port}", 1, a.threads)
    return 0


def cmd_sandbox(a) -> int:
    from lms_soap.sandbox.runner import run_sandbox

    return run_sandbox(a)


def cmd_demo(a) -> int:
    from lms_soap.sandbox.demo import run_demo

    return run_demo(Path(a.state_dir), lifecycle=not a.no_lifecycle)


def build_parser(defaults: Settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lms-soap", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the LMS under gunicorn")
    s.add_argument("--bind", default=defaults.serve_bind, help="default: LMS_BIND")
    s.add_argument("--workers", type=int, default=defaults.serve_workers, help="default: WEB_CONCURRENCY")
    s.add_argument("--threads", type=int, default=defaults.serve_threads, help="default: LMS_THREADS")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("worker", help="run the scoring worker (RQ, with scheduler and reconciler; "
                                      "without REDIS_URL it polls the database for due steps)")
    s.add_argument("--burst", action="store_true", help="stop when the queue is empty (no step is due)")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("db", help="database migrations (Alembic)")
    s.add_argument("action", choices=["upgrade", "downgrade", "current"])
    s.add_argument("revision", nargs="?")
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("clients", help="manage API clients")
    csub = s.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add", help="create a client; prints its password once")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["bank", "scoring", "admin"])
    add.add_argument("--description")
    add.add_argument("--rotate", action="store_true", help="give an existing client a new password")
    csub.add_parser("list")
    rev = csub.add_parser("revoke")
    rev.add_argument("username")
    s.set_defaults(func=cmd_clients)

    s = sub.add_parser("scoring", help="scoring engine registration")
    ssub = s.add_subparsers(dest="action", required=True)
    reg = ssub.add_parser("register", help="createClient with fresh credentials (rotates them)")
    reg.add_argument("--name")
    reg.add_argument("--url", help="transaction-data URL (default: LMS_PUBLIC_URL/api/v1/transactions)")
    s.set_defaults(func=cmd_scoring)

    s = sub.add_parser("reconcile", help="re-queue overdue scoring, fail loans past the deadline")
    s.set_defaults(func=cmd_reconcile)

    s = sub.add_parser("wsdl", help="the published WSDL")
    wsub = s.add_subparsers(dest="action", required=True)
    exp = wsub.add_parser("export")
    exp.add_argument("--output", "-o", default=str(DEFAULT_WSDL_PATH))
    exp.add_argument("--public-url", help=f"the LMS's public URL (default {DEFAULT_PUBLIC_URL})")
    exp.add_argument("--callback-output", help="where the bank callback's WSDL goes (none: not written; "
                     f"default {DEFAULT_CALLBACK_WSDL_PATH}, or none when --output is -)")
    s.set_defaults(func=cmd_wsdl)

    s = sub.add_parser("simulate", help="run one simulator alone")
    s.add_argument("system", choices=["cbs", "scoring"])
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int)
    s.add_argument("--threads", type=int, default=16)
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("sandbox", help="the LMS, both simulators and a worker on one machine")
    s.add_argument("--state-dir", default=".lms-sandbox")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--lms-port", type=int, default=8000)
    s.add_argument("--cbs-port", type=int, default=8093)
    s.add_argument("--scoring-port", type=int, default=8094)
    s.add_argument("--workers", type=int, default=2, help="gunicorn workers of the LMS")
    s.add_argument("--bank-port", type=int, default=8095, help="the sandbox's bank callback receiver")
    s.set_defaults(func=cmd_sandbox)

    s = sub.add_parser("demo", help="walk the journey against a running sandbox")
    s.add_argument("--state-dir", default=".lms-sandbox")
    s.add_argument("--no-lifecycle", action="store_true",
                   help="skip the SANDBOX-FAST overdue/default/write-off part (it waits about 90 s)")
    s.set_defaults(func=cmd_demo)

    from lms_soap.cli_lending import add_commands  # products, arrears, report

    add_commands(sub)
    return p


#: Commands that serve, run jobs or store secrets keyed by LMS_SECRET_KEY: never on the committed key.
KEYED_COMMANDS = {("serve", None): "lms-soap serve", ("worker", None): "lms-soap worker",
                  ("clients", "add"): "lms-soap clients add",
                  ("scoring", "register"): "lms-soap scoring register"}


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings()  # once per process: every command is given these
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args = build_parser(settings).parse_args(argv)
    args.settings = settings
    try:
        configure_logging(settings.log_level)
        keyed = KEYED_COMMANDS.get((args.command, getattr(args, "action", None)))
        if keyed:
            require_production_key(settings, keyed)
            if settings.secret_key == DEV_SECRET_KEY:
                print(f"warning: {keyed} runs on the development LMS_SECRET_KEY (LMS_ALLOW_DEV_KEY=1)",
                      file=sys.stderr)
        return args.func(args) or 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
