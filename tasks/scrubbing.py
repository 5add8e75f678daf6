"""The process's one PHI scrubber, shared by the scrub and analysis handlers."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # phi loads its dictionaries on import: only processes that scrub pay for it
    from phi import Scrubber

_scrubber: Scrubber | None = None
_scrubber_lock = threading.Lock()


def scrubber() -> Scrubber:
    """The process's one Scrubber. Built under a lock: a gpu worker's task threads all start at
    once, and each building its own (0.4 s of GIL-bound work apiece) kept 64 first jobs from the
    engine for ~25 s."""
    global _scrubber
    if _scrubber is None:
        with _scrubber_lock:
            if _scrubber is None:
                from phi import Scrubber

                built = Scrubber()
                built.scrub("warm-up: John Smith, 555-201-3344, 12 Elm Street")  # lazy tables load here
                _scrubber = built
    return _scrubber


def scrub_version() -> str:
    import phi

    return f"phi@{getattr(phi, '__version__', '1')}"
