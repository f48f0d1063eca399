"""HTTP sending for request steps: one POST, its answer decoded with the charset it declares."""
from __future__ import annotations

import re

import requests
from requests.structures import CaseInsensitiveDict


def post(session: requests.Session, endpoint: str, data: bytes, headers: dict[str, str], timeout: float):
    """(status, headers, text, None), or (None, {}, "", error) when the request did not get an answer."""
    try:
        response = session.post(endpoint, data=data, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return None, {}, "", f"{type(exc).__name__}: {exc}"
    # The charset the answer declares, else UTF-8 (requests would guess ISO-8859-1 for text/xml).
    match = re.search(r"charset=([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
    try:
        text = response.content.decode(match.group(1) if match else "utf-8", errors="replace")
    except LookupError:
        text = response.content.decode("utf-8", errors="replace")
    return response.status_code, CaseInsensitiveDict(response.headers), text, None
