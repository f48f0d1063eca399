"""gunicorn entry point: `gunicorn lms_soap.wsgi:application`.

The application is built when gunicorn imports this module in a worker (or once in the master
with --preload; the engine's pool then opens connections lazily, after the fork).
"""
from lms_soap.app import create_app
from lms_soap.config import load_settings
from lms_soap.logs import configure_logging

_settings = load_settings()
configure_logging(_settings.log_level)
application = create_app(_settings)
