"""gunicorn's settings, all of them, from lms_soap.config (LMS_BIND, WEB_CONCURRENCY, LMS_THREADS,
LMS_TIMEOUT, LMS_GRACEFUL_TIMEOUT, LMS_KEEPALIVE, LMS_MAX_REQUESTS[_JITTER]).

Every gunicorn of the project runs with it: `gunicorn --config python:lms_soap.gunicorn_conf APP`
(lms_soap.cli.gunicorn_argv): `lms-soap serve` (and so the Docker image), `lms-soap simulate`, the
sandbox, the e2e tests and the bench. They differ only through those settings, in the environment
of the gunicorn they start, which the application's workers read too (DB_POOL_SIZE follows
LMS_THREADS). The workers turn gunicorn's own refusals into SOAP faults when they import the
application (lms_soap/wsgi.py, lms_soap.web.server_errors).
"""
from lms_soap.config import load_settings

_settings = load_settings()

bind = [_settings.serve_bind]
workers = _settings.serve_workers
# With threads > 1, gunicorn's gthread worker (keep-alive, one request per thread at a time) that
# spreads a burst of keep-alive connections over the workers (lms_soap/web/balanced_worker.py);
# with one thread, gunicorn's sync worker.
threads = _settings.serve_threads
worker_class = "lms_soap.web.balanced_worker.BalancedThreadWorker" if threads > 1 else "sync"
timeout = _settings.serve_timeout
graceful_timeout = _settings.serve_graceful_timeout
keepalive = _settings.serve_keepalive
max_requests = _settings.serve_max_requests
max_requests_jitter = _settings.serve_max_requests_jitter
# No access log of gunicorn's by default: the LMS writes one JSON line per request itself
# (lms_soap/app.py); the simulators and other apps get this one (cli.gunicorn_argv).
accesslog = None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# gunicorn 27's control socket (gunicornc) is switched off: nothing here uses it.
control_socket_disable = True
