"""IPv4 and IPv6 addresses, checked with the standard library."""
from __future__ import annotations

import ipaddress
import re

from .base import Pattern, PatternDetector, holds_near_digits

_V4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]\d)")
_V6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _valid(text: str, start: int, end: int) -> bool:
    try:
        ipaddress.ip_address(text[start:end])
    except ValueError:
        return False
    return True


def _valid_v6(text: str, start: int, end: int) -> bool:
    return text.count(":", start, end) >= 2 and _valid(text, start, end)


def _is_time(text: str, start: int, end: int) -> bool:
    return all(part.isdigit() and len(part) <= 2 for part in text[start:end].split(":"))  # 10:30:00


_COLON_PAIR = re.compile(r":[0-9A-Fa-f]{0,4}:")  # in every IPv6 shape: two colons, at most four hex digits between


def _may_hold_v6(text: str) -> bool:
    return ("::" in text or text.count(":") >= 3) and _COLON_PAIR.search(text) is not None


def _after_dot(text: str, run: int) -> int:
    """Where "\\d\\.\\d..." can begin for a run of digits: the digit before the dot before it."""
    return run - 2 if run > 1 and text[run - 1] == "." else -1


class IpDetector(PatternDetector):
    name = "ip"
    kind = "IP"
    patterns = (
        Pattern("ipv4", _V4, needs=holds_near_digits(r"\d\.\d{1,3}\.\d{1,3}\.\d", _after_dot), validate=_valid),
        Pattern("ipv6", _V6, needs=_may_hold_v6, validate=_valid_v6, invalidate=_is_time),
    )
