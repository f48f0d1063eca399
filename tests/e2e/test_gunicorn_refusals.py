"""Requests gunicorn refuses before the application runs still get a SOAP fault, never HTML."""
import socket
from tests.conftest import make_settings
from tests.support.processes import Gunicorn



def raw(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data); out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        out += chunk
    s.close(); return out

def test_gunicorn_refusals_are_soap_faults(db, flushed_redis):
    with Gunicorn(make_settings(db, flushed_redis), workers=1) as g:
        for req in [b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: abc\r\n\r\n",
                    b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    b"GARBAGE\r\n\r\n"]:
            out = raw(g.port, req)
            assert b"text/xml" in out and b"Client.MalformedRequest" in out and b"<html" not in out
