"""``celery flower`` with every page behind its basic auth and no server banner (the flower role).

Flower 2.2 serves ``/metrics`` (task names, worker names, queue activity) and ``/healthcheck`` to
anyone even when basic auth guards the rest, and Tornado names itself and its version in a
``Server`` header on every response. Flower has no option for either, so this launcher swaps in
authenticated subclasses of those two handlers in Flower's route table, and strips the header with
a Tornado output transform, before handing over to Celery's own command line.
"""
from __future__ import annotations

import sys
from typing import Any

import tornado.web
from flower import urls
from flower.views import monitor


class _Authenticated(tornado.web.RequestHandler):
    def prepare(self) -> None:
        # Flower's basic auth lives in get_current_user: a missing or wrong password raises 401 there
        if not self.current_user:
            raise tornado.web.HTTPError(401)


class Metrics(_Authenticated, monitor.Metrics):
    pass


class Healthcheck(_Authenticated, monitor.Healthcheck):
    pass


class NoServerHeader(tornado.web.OutputTransform):
    """Drops ``Server: TornadoServer/<version>`` from every response, error pages included."""

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes,
                              finishing: bool) -> tuple[int, Any, bytes]:
        headers.pop("Server", None)
        return status_code, headers, chunk


def protect() -> None:
    """Edit Flower's route table and settings in place (its app reads both when it is built)."""
    swap: dict[type, type] = {monitor.Metrics: Metrics, monitor.Healthcheck: Healthcheck}
    swapped = 0
    for i, route in enumerate(urls.handlers):
        if isinstance(route, tuple) and route[1] in swap:
            urls.handlers[i] = (route[0], swap[route[1]], *route[2:])
            swapped += 1
    if swapped != len(swap):  # a Flower release that moved them: refuse to run open
        raise SystemExit("mindq flower: this Flower's /metrics and /healthcheck routes were not found")
    urls.settings["transforms"] = [NoServerHeader]


def main() -> None:
    from celery.bin.celery import main as celery_main

    protect()
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
