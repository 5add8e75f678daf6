"""IPv4 and IPv6 addresses, checked with the standard library."""
from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from ..adapter import PhiDetector
from ..spans import PhiSpan

_V4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]\d)")
_V6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


class IpDetector(PhiDetector):
    name = "ip"
    kind = "IP"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if "." in text:
            for m in _V4.finditer(text):
                if _valid(m.group()):
                    yield self.span(m.start(), m.end(), "ipv4")
        if "::" in text or text.count(":") >= 3:
            for m in _V6.finditer(text):
                if m.group().count(":") >= 2 and _valid(m.group()) and not _is_time(m.group()):
                    yield self.span(m.start(), m.end(), "ipv6")


def _valid(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _is_time(candidate: str) -> bool:
    return all(part.isdigit() and len(part) <= 2 for part in candidate.split(":"))
