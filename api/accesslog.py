"""gunicorn's access log as one JSON object a line, every field escaped.

gunicorn's own format string pastes atoms in as they are: the path is already URL-decoded, so a
request for ``/x%0A{"forged": ...}`` wrote a second, made-up log line. Here the line is built by
json.dumps, which escapes newlines, quotes and control characters in whatever the client sent.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: dt.timedelta) -> None:
        if not self.cfg.accesslog:
            return
        self.access_log.info(json.dumps({
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": getattr(resp, "status_code", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
        }, separators=(",", ":")))
