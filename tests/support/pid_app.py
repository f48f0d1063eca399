"""A WSGI application that answers with the pid of the process serving it (tests of how gunicorn
spreads connections over its workers)."""
import os


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
