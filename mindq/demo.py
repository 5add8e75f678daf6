"""The demo that `mindq up` runs once the stack is ready: real jobs through the real API."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

DEMO_TEXT = ("Journal, March 3rd: Dr. Alvarez called me at 555-201-3344 about my sleep. I have felt "
             "hopeless most days this month and I stopped going to my pottery class.")


def _call(method: str, url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def follow(api: str, key: str, job_id: str, say: Callable[[str], None]) -> dict:
    """Read the job's SSE stream to its end, printing each state change, then fetch the job."""
    req = urllib.request.Request(f"{api}/v1/jobs/{job_id}/events", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        for line in resp:
            line = line.decode().strip()
            if line.startswith("data:"):
                event = json.loads(line[5:])
                say(f"  event: state={event['state']} stage={event['stage']} progress={event['progress']}")
    return _call("GET", f"{api}/v1/jobs/{job_id}", key)


def run_demo(api: str, key: str, say: Callable[[str], None]) -> None:
    types = {t["name"] for t in _call("GET", f"{api}/v1/analysis-types", key)["analysis_types"]}
    # imhi.dr: a type the shipped demo model was trained for (models/mindq-demo/README.md)
    for job_type in ("scrub", "imhi.dr"):
        if job_type not in types:
            continue
        job = _call("POST", f"{api}/v1/jobs", key, {"type": job_type, "text": DEMO_TEXT, "patient_ref": "demo-1"})
        say(f"demo: submitted {job_type} job {job['id']}")
        done = follow(api, key, job["id"], say)
        say(f"demo: {job_type} job {done['state']}: {json.dumps(done.get('result') or done.get('error'))[:400]}")
