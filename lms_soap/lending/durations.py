"""ISO 8601 / xs:duration values as timedeltas: `P30D`, `PT20S`, `P1DT12H`, `PT1.5S`.

Years and months have no fixed length, so they are refused (a product's tenor is given in days).
Used by the CLI to read products and by anything that shows them.
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

_PATTERN = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> timedelta:
    """A timedelta for an ISO 8601 duration without years or months; ValueError otherwise."""
    value = (text or "").strip().upper()
    match = _PATTERN.fullmatch(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P30D or PT20S "
                         "(years and months are not allowed)")
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        seconds = Decimal(parts.pop("seconds", "0"))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        raise ValueError(f"{text!r}: bad seconds") from None
    return timedelta(**{k: int(v) for k, v in parts.items()}, seconds=float(seconds))


def format_duration(value: timedelta) -> str:
    """The shortest canonical form: P30D, PT20S, P1DT12H, PT0S."""
    if value < timedelta(0):
        raise ValueError("negative durations are not used")
    days, rest = value.days, value.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    micro = value.microseconds
    out = "P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micro:
        time += f"{seconds}.{micro:06d}".rstrip("0") + "S" if micro else f"{seconds}S"
    if time:
        out += "T" + time
    return out if out != "P" else "PT0S"
