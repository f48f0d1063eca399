"""What requests reads from the environment, read once per session instead of on every call.

A requests.Session with trust_env=True (the default) looks at the environment on every request:
it walks os.environ twice for *_PROXY variables, matches the host against NO_PROXY, reads
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE and looks for a ~/.netrc entry. That was about a third of
the client-side cost of each call to the CBS or the scoring engine. The endpoints of our sessions
are fixed at start-up and the environment of a process does not change, so the answer is the
same on every call: it is worked out here once, for each endpoint, and set on the session.
Written against requests 2.x (checked by tests/unit/test_library_seams.py): it asks requests'
own helpers (get_environ_proxies, get_netrc_auth, merge_environment_settings), so the answer is
the one requests would give.
"""
from __future__ import annotations

import requests
from requests.utils import get_environ_proxies, get_netrc_auth


def settle_environment(session: requests.Session, *urls: str) -> None:
    """Give `session` what the environment says for `urls` (proxies, CA bundle, netrc
    credentials) and stop it from asking again. When the endpoints would get different answers
    (one behind a proxy, one in NO_PROXY), the session keeps asking on every call."""
    if not session.trust_env or not urls:
        return
    proxies = [get_environ_proxies(url) for url in urls]
    netrc = [None if session.auth else get_netrc_auth(url) for url in urls]
    if any(p != proxies[0] for p in proxies) or any(n != netrc[0] for n in netrc):
        return
    session.proxies.update(proxies[0])  # as requests: the environment's win over the session's
    if session.verify is True:  # requests' own reading of REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
        session.verify = session.merge_environment_settings(urls[0], {}, None, True, None)["verify"]
    if netrc[0] is not None:
        session.auth = netrc[0]
    session.trust_env = False
