"""Task definitions: ``mindq.run_job`` (every job type) and ``mindq.noop`` (the benchmark's raw rate)."""
from __future__ import annotations

from tasks.app import app
from tasks.base import JobTask
from tasks.handlers import handler_for


class RunJob(JobTask):
    handler_for = staticmethod(handler_for)
    # retries wait for another execution's lease or for a transient outage; the job row, not a
    # retry counter, bounds them (a transient failure is retried at most 3 times per attempt)
    max_retries = None


@app.task(name="mindq.run_job", base=RunJob, bind=True)
def run_job(self: RunJob, job_id: str) -> str:
    return self.execute_job(job_id)


@app.task(name="mindq.noop")
def noop(i: int = 0) -> int:
    return i
