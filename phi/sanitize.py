"""Make any input safe to scan: a str, no lone surrogates, same length so offsets still hold."""
from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    # a lone surrogate cannot be encoded to UTF-8 downstream; U+FFFD keeps every offset in place
    return _SURROGATE.sub("\ufffd", value)
