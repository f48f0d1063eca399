"""gunicorn entry point: `gunicorn lms_soap.wsgi:application`.

The application is built when gunicorn imports this module in a worker (or once in the master
with --preload; the engine's pool then opens connections lazily, after the fork).
"""
import gc

import spyne.const

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

# Garbage collection, tuned for a long-lived server process (bench/README.md has the figures):
# - Spyne runs a full gc.collect() at most once a second at the end of a request (for the files
#   of attachments, which the LMS never receives). With the LMS's ~100 000 objects that pause took
#   tens of milliseconds, holding the GIL over every thread of the worker: the p99 of every
#   operation. Python's own generational collection still runs as usual.
# - gc.freeze() moves everything built so far (modules, Spyne, zeep and SQLAlchemy metadata, the
#   container) out of the collector's sight: it lives as long as the process anyway, so no
#   collection needs to walk it again.
spyne.const.MIN_GC_INTERVAL = float("inf")
gc.freeze()
