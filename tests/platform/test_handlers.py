"""The process-wide scrubber is built once, however many task threads ask for it at once
(a gpu worker's threads pool starts dozens of jobs together)."""
from __future__ import annotations

import threading
import time

import phi
from tasks import scrubbing


def test_concurrent_first_calls_build_one_scrubber(monkeypatch):
    built = []

    class SlowScrubber(phi.Scrubber):
        def __init__(self, *args, **kwargs):
            built.append(self)
            time.sleep(0.2)  # construction takes a while: every thread arrives before it ends
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(phi, "Scrubber", SlowScrubber)
    monkeypatch.setattr(scrubbing, "_scrubber", None)
    got, start = [], threading.Barrier(16)

    def ask():
        start.wait()
        got.append(scrubbing.scrubber())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(got) == 16 and all(s is built[0] for s in got)
    assert "[NAME]" in got[0].scrub("Seen by John Smith").text
