"""gunicorn entry point: `gunicorn lms_soap.wsgi:application`.

The application is built when gunicorn imports this module in a worker (or once in the master
with --preload; the engine's pool then opens connections lazily, after the fork).
"""
import sys

from lms_soap import gc_tuning
from lms_soap.app import create_app
from lms_soap.config import load_settings, require_production_key
from lms_soap.logs import configure_logging
from lms_soap.web import server_errors
from lms_soap.web.metrics_server import start_metrics_server

_settings = load_settings()
configure_logging(_settings.log_level)
# Here, not in create_app: `gunicorn lms_soap.wsgi:application` is how production starts the LMS
# (the worker fails to boot, and gunicorn stops, with the message naming LMS_ALLOW_DEV_KEY).
require_production_key(_settings, "the LMS (lms_soap.wsgi)")
application = create_app(_settings)
server_errors.install()  # gunicorn's own refusals become SOAP faults, not HTML pages
if _settings.metrics_bind:
    start_metrics_server(_settings.metrics_bind, application.container)

gc_tuning.tune_for_server()  # Spyne's forced collections off, start-up objects frozen
# The worker's threads take turns on the GIL: how long one that returns from I/O may wait.
sys.setswitchinterval(_settings.serve_switch_interval)
