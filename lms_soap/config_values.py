"""How config.py turns an environment variable's text into a setting's value (it alone reads
the environment: each reader here is given the mapping)."""
from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Mapping


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


def _env(name: str, default, cast, *, empty_is_default: bool = True, deprecated_alias: str | None = None):
    def read(environ: Mapping[str, str]):
        raw = environ.get(name)
        if raw is None and deprecated_alias:  # the setting's former name, still read
            raw = environ.get(deprecated_alias)
        if raw is None or (raw == "" and empty_is_default):
            return default
        try:
            return cast(raw)
        except (ValueError, ArithmeticError) as exc:
            raise ConfigError(f"{name}={raw!r}: {exc}") from None

    return field(default=default, metadata={"env": name, "read": read})


def _host_port(raw: str) -> str:
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port, e.g. 127.0.0.1:9100")
    return raw


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number of seconds")
    return value


def _switch_interval(raw: str) -> float:
    value = float(raw)
    # sys.setswitchinterval takes nearly anything, silently: 1e-7 and 1e30 both read back as 0,
    # and "1" (meant as milliseconds) would let one busy thread hold up the others for a second.
    if not 0.0001 <= value <= 0.1:
        raise ValueError("expected seconds between 0.0001 and 0.1 (e.g. 0.001 for 1 ms)")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected 0 or more")
    return value


def _amount(raw: str) -> Decimal:
    value = Decimal(raw.strip())
    if not value.is_finite():
        raise ValueError("expected a finite amount")
    return value


def _auth_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("wsse", "basic"):
        raise ValueError("expected 'wsse' or 'basic'")
    return value
