"""Outgoing WS-Security as SoapUI applies it to a request: a project-level outgoing configuration
(con:wssContainer/con:outgoing, selected by the request's outgoingWss attribute) with Username
and Timestamp entries, or the request-level UsernameToken (the request's wssPasswordType with the
username and password of its con:credentials)."""
from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone

from lxml import etree

from .expansion import Scope, expand
from .model import WssOutgoing

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TYPES = {"PasswordText": f"{TOKEN_PROFILE}#PasswordText",
                  "PasswordDigest": f"{TOKEN_PROFILE}#PasswordDigest"}
BASE64_BINARY = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
                 "#Base64Binary")


class WssProblem(Exception):
    pass


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _security_header(envelope: etree._Element, must_understand: bool, actor: str | None) -> etree._Element:
    env_ns = etree.QName(envelope).namespace
    header = envelope.find(f"{{{env_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{env_ns}}}Header")
        envelope.insert(0, header)
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    if must_understand:
        security.set(f"{{{env_ns}}}mustUnderstand", "1")
    if actor:
        security.set(f"{{{env_ns}}}actor", actor)
    return security


def _username_token(security: etree._Element, username: str, password: str, password_type: str,
                    add_nonce: bool, add_created: bool) -> None:
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    token.set(f"{{{WSU}}}Id", f"UsernameToken-{os.urandom(8).hex()}")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = username
    nonce = os.urandom(16)
    created = _stamp(datetime.now(timezone.utc))
    if password_type == "PasswordDigest":
        digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()
        value = base64.b64encode(digest).decode()
        add_nonce = add_created = True
    elif password_type == "PasswordText":
        value = password
    else:
        raise WssProblem(f"password type {password_type!r} is not supported")
    pw = etree.SubElement(token, f"{{{WSSE}}}Password", Type=PASSWORD_TYPES[password_type])
    pw.text = value
    if add_nonce:
        etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=BASE64_BINARY).text = \
            base64.b64encode(nonce).decode()
    if add_created:
        etree.SubElement(token, f"{{{WSU}}}Created").text = created


def _timestamp(security: etree._Element, ttl_seconds: int) -> None:
    now = datetime.now(timezone.utc)
    stamp = etree.Element(f"{{{WSU}}}Timestamp")
    stamp.set(f"{{{WSU}}}Id", f"TS-{os.urandom(8).hex()}")
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = _stamp(now)
    etree.SubElement(stamp, f"{{{WSU}}}Expires").text = _stamp(now + timedelta(seconds=ttl_seconds))
    security.insert(0, stamp)  # WSS4J prepends the Timestamp


def apply_outgoing(envelope: etree._Element, config: WssOutgoing, scope: Scope) -> None:
    security = _security_header(envelope, config.must_understand, config.actor)
    for entry in config.entries:
        settings = entry.configuration
        if entry.type == "Username":
            _username_token(
                security,
                expand(entry.attributes.get("username", ""), scope),
                expand(entry.attributes.get("password", ""), scope),
                settings.get("passwordType") or "PasswordText",
                settings.get("addNonce", "false").lower() == "true",
                settings.get("addCreated", "false").lower() == "true",
            )
        elif entry.type == "Timestamp":
            _timestamp(security, int(expand(settings.get("timeToLive") or "300", scope)))
        else:
            raise WssProblem(f"outgoing WS-Security entry type {entry.type!r} is not supported")


def apply_request_token(envelope: etree._Element, username: str, password: str, password_type: str) -> None:
    """The request-level UsernameToken (SoapUI's request property "WSS-Password Type")."""
    security = _security_header(envelope, True, None)
    _username_token(security, username, password, password_type, True, True)
