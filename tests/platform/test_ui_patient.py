"""The clinicians' patient view, recent-job filters, cancel and the SSE reconnect path, in
Debian's chromium against real gunicorn processes and workers (skips without chromium).

Set MINDQ_UI_SCREENSHOTS=DIR to keep screenshots there (docs/ holds the committed ones)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from core import config
from jobstore import runtime, tenants
from mindq.cli import gunicorn_cmd
from tasks.routing import LLM_INTERACTIVE
from tests.platform.conftest import Proc, llm_hostname, paused, read_sse, wait_until

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromium-driver are not installed")
SHOTS = os.environ.get("MINDQ_UI_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,2400"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def clinician(platform_env) -> str:
    engine = runtime.db()
    return tenants.add_key(engine, tenants.ensure_tenant(engine, "clinic-ui"),
                           scopes=("jobs:write", "jobs:read", "journals:write", "journals:read"))


def shot(browser, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _open(browser, url: str, key: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{url}/ui/")
    field = browser.find_element("id", "api-key")
    field.clear()
    field.send_keys(key + "\t")
    WebDriverWait(browser, 20).until(lambda d: d.find_element("id", "patient-card").is_displayed())


def _text(browser, element_id: str) -> str:
    return browser.find_element("id", element_id).text


BUDGET = 4  # tokens per answer in the planted run: the tiny model's context is short


def _prime_cache(texts: list[str], labels: list[str]) -> None:
    """Plant the model's answers for these texts in the analysis result cache, as an earlier
    identical request would have left them: the run still goes scrub → render → cache."""
    import prompts
    from tasks.analysis import _cache_put, cache_key
    from tasks.provenance import current_versions
    from tasks.scrubbing import scrubber

    versions = current_versions("risk")
    for text, label in zip(texts, labels, strict=True):
        prompt = prompts.render("risk", scrubber().scrub(text).text)
        _cache_put(cache_key(prompt, versions, BUDGET), {**versions, "label": label, "parsed": True, "confidence": 0.9})


def _planted_journal(api, key: str) -> tuple[str, int]:
    """A patient whose risk labels climb (low, low, medium, high, high), analysed by a real run
    of the nightly re-analysis, the labels planted in the analysis cache."""
    texts = [f"Week {i}: {uuid.uuid4().hex[:6]} things are getting harder." for i in range(5)]
    _prime_cache(texts, ["low", "low", "medium", "high", "high"])
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    base = dt.datetime(2026, 10, 1, 21, 0, tzinfo=dt.UTC)
    entries = [{"entry_id": f"n{i}", "written_at": (base + dt.timedelta(weeks=i)).isoformat(), "text": t}
               for i, t in enumerate(texts)]
    status, body, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": entries}, key=key)
    assert status == 201, body
    before = config.settings()
    config.use(dataclasses.replace(before, reanalysis_max_new_tokens=BUDGET))  # the planted answers' budget
    try:
        status, run, _ = api("POST", "/v1/reanalysis-runs", {"types": ["risk"], "patient_refs": [patient]}, key=key)
    finally:
        config.use(before)
    assert status == 202, run

    def finished():
        _, body, _ = api("GET", f"/v1/reanalysis-runs/{run['id']}", key=key)
        return body if body["state"] not in ("queued", "running") else None

    final = wait_until(finished, 240, 0.5, what="the re-analysis run")
    assert final["state"] == "succeeded" and final["counts"]["done"] == 5, final
    return patient, final["flags_raised"]


def test_patient_view_plots_analyses_flags_and_a_forecast(browser, web_server, api, clinician, llm_worker, cpu_worker):
    from selenium.webdriver.support.ui import WebDriverWait

    patient, n_flags = _planted_journal(api, clinician)
    _open(browser, web_server, clinician)
    browser.find_element("id", "patient-ref").send_keys(patient + "\n")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements("css selector", "#timeline circle.analysis"))
    # the page shows what the API holds: each analysis a dot with its label, each flag a mark
    journal = api("GET", f"/v1/patients/{patient}/journal", key=clinician)[1]["entries"]
    flags = api("GET", f"/v1/patients/{patient}/flags", key=clinician)[1]["flags"]
    labels = [a["label"] or "unparsed" for e in journal for a in e["analyses"]]
    dots = browser.find_elements("css selector", "#timeline circle.analysis")
    # the run served the planted labels, and the climb raised a flag
    assert labels == ["low", "low", "medium", "high", "high"] and n_flags >= 1
    assert [d.get_attribute("data-label") for d in dots] == labels
    attention = sum(label in ("medium", "high") for label in labels)
    assert len(browser.find_elements("css selector", "#timeline circle.analysis.attention")) == attention
    assert len(browser.find_elements("css selector", "#timeline g.flag")) == len(flags) == n_flags
    entries = [li.text for li in browser.find_elements("css selector", "#entries li")]
    flagged = {f["entry_id"] for f in flags}
    assert [("⚑" in line) for line in entries] == [e["entry_id"] in flagged for e in reversed(journal)]
    assert f"risk: {labels[-1]}" in entries[0]  # newest first
    assert "things are getting harder" not in browser.page_source  # labels, never the text

    browser.find_element("id", "phq9").send_keys(
        "\n".join(f"{dt.date(2026, 10, 5) + dt.timedelta(weeks=i)} {s}" for i, s in enumerate([9, 11, 12, 14, 15])))
    browser.find_element("id", "forecast-btn").click()
    WebDriverWait(browser, 120).until(lambda d: d.find_elements("css selector", "#forecast-plot polygon.band"))
    points = browser.find_elements("css selector", "#forecast-plot circle.forecast-point")
    assert len(points) == 4
    for p in points:
        assert float(p.get_attribute("data-lower")) <= float(p.get_attribute("data-upper"))
    assert "90% interval" in _text(browser, "forecast-note")
    shot(browser, "ui-patient-view")


def test_recent_jobs_filter_and_cancel(browser, web_server, api, clinician, llm_worker):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with paused(LLM_INTERACTIVE, llm_hostname()):  # the job waits in its queue while the clinician cancels it
        _, job, _ = api("POST", "/v1/jobs", {"type": "depression", "text": "I have felt low for weeks",
                                             "options": {"max_new_tokens": 48}}, key=clinician)
        _open(browser, web_server, clinician)
        browser.find_element("id", "job-id").send_keys(job["id"] + "\n")
        WebDriverWait(browser, 20).until(lambda d: d.find_element("id", "cancel-btn").is_displayed())
        browser.find_element("id", "cancel-btn").click()
        WebDriverWait(browser, 60).until(lambda d: _text(d, "state") == "cancelled"
                                         and _text(d, "connection") == "finished")
    assert not browser.find_element("id", "cancel-btn").is_displayed()
    assert api("GET", f"/v1/jobs/{job['id']}", key=clinician)[1]["state"] == "cancelled"
    Select(browser.find_element("id", "recent-state")).select_by_visible_text("cancelled")
    WebDriverWait(browser, 20).until(lambda d: "depression · cancelled" in _text(d, "recent"))
    assert all("· cancelled" in li.text for li in browser.find_elements("css selector", "#recent li"))
    shot(browser, "ui-cancelled-job-and-recent-filter")
    Select(browser.find_element("id", "recent-type")).select_by_value("scrub")
    WebDriverWait(browser, 20).until(lambda d: _text(d, "recent") == "no jobs match")


def test_the_page_reconnects_after_the_web_server_restarts(browser, proc_env, log_dir, web_server, api, clinician,
                                                           llm_worker):
    """The reconnect path: the web process goes away mid-stream and comes back on the same port;
    the page waits `retry` ms, resumes with Last-Event-ID and shows each event once, in order."""
    from selenium.webdriver.support.ui import WebDriverWait

    from mindq.embedded import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def start() -> Proc:
        proc = Proc("web-reconnect", gunicorn_cmd(f"127.0.0.1:{port}", workers=1, connections=100, graceful_s=1),
                    proc_env, log_dir)
        wait_until(lambda: _up(url), 60, what="gunicorn")
        return proc

    web = start()
    try:
        with paused(LLM_INTERACTIVE, llm_hostname()):  # the job is still queued when the server stops
            _, job, _ = api("POST", "/v1/jobs", {"type": "depression", "text": "Some days are heavy",
                                                 "options": {"max_new_tokens": 48}}, key=clinician)
            _open(browser, url, clinician)
            browser.find_element("id", "job-id").send_keys(job["id"] + "\n")
            WebDriverWait(browser, 20).until(lambda d: len(d.find_elements("css selector", "#events li")) >= 1)
            web.stop()
            WebDriverWait(browser, 30).until(lambda d: "reconnecting" in _text(d, "connection"))
            shot(browser, "ui-reconnecting")
        web = start()  # the job runs meanwhile or after: its events reach the page either way
        WebDriverWait(browser, 120).until(lambda d: _text(d, "connection") == "finished")
    finally:
        web.stop()
    assert _text(browser, "state") == "succeeded"
    shown = [_event_text(li.text) for li in browser.find_elements("css selector", "#events li")]
    feed = [e["data"] for e in read_sse(f"{web_server}/v1/jobs/{job['id']}/events", clinician) if "data" in e]
    expected = [f"{d['state']} · {d['stage']} · {d['progress']}%"
                + (f" {d['tokens']}/{d['max_tokens']} tokens" if isinstance(d.get("tokens"), int) else "") for d in feed]
    assert len(feed) > 2 and shown == expected  # every event once, none lost across the restart


def _event_text(line: str) -> str:
    """A row of the page's event list without its (locale-formatted) time."""
    found = re.search(r"(queued|running|succeeded|failed|cancelled) · ", line)
    assert found, line
    return line[found.start():]


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
