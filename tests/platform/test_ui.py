"""The clinicians' page (/ui) in a real browser: Debian's chromium, driven by Selenium, against
the real gunicorn + gevent web process and real workers.

Needs `chromium` and `chromium-driver` (dev.py installs them when it runs as root); without them
these tests skip and say so.
"""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.platform.conftest import wait_job

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(browser, web_server: str, key: str):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{web_server}/ui/")
    field = browser.find_element("id", "api-key")
    field.clear()
    field.send_keys(key + "\t")  # the change event loads the analysis types
    WebDriverWait(browser, 20).until(lambda d: len(Select(d.find_element("id", "job-type")).options) > 1)
    return Select(browser.find_element("id", "job-type"))


def _text(browser, element_id: str) -> str:
    return browser.find_element("id", element_id).text


def test_page_is_served_with_a_strict_content_security_policy(web_server):
    resp = httpx.get(f"{web_server}/ui/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert httpx.get(f"{web_server}/").headers["location"] == "/ui/"
    assert httpx.get(f"{web_server}/ui/app.js").status_code == 200
    assert httpx.get(f"{web_server}/ui/secrets.txt").status_code == 404


def test_a_clinician_submits_a_note_and_watches_it_finish(browser, web_server, keys, cpu_worker):
    from selenium.webdriver.support.ui import WebDriverWait

    types = _open(browser, web_server, keys["clinic-a"])
    types.select_by_value("scrub")
    browser.find_element("id", "job-text").send_keys("Seen by Dr. Quillon Varga, call 555-867-5309.")
    browser.find_element("id", "submit-btn").click()
    WebDriverWait(browser, 60).until(lambda d: _text(d, "state") == "succeeded" and _text(d, "connection") == "finished")
    job_id = browser.find_element("id", "job-id-view").text
    events = [li.text for li in browser.find_elements("css selector", "#events li")]
    assert " queued " in f" {events[0]} " and "succeeded" in events[-1], events
    assert browser.find_element("id", "progress").get_attribute("value") == "100"
    result = _text(browser, "result")
    assert "[NAME]" in result and "[PHONE]" in result
    assert "Quillon" not in result and "867-5309" not in result and "Quillon" not in browser.page_source
    assert browser.find_element("id", "job-text").get_attribute("value") == ""  # cleared once sent
    # the job heads the tenant's recent list, and following it from there replays its history
    WebDriverWait(browser, 20).until(lambda d: "scrub · succeeded" in _text(d, "recent"))
    browser.find_element("css selector", "#recent button").click()
    WebDriverWait(browser, 30).until(lambda d: _text(d, "connection") == "finished"
                                     and d.find_element("id", "job-id-view").text == job_id)
    assert [li.text.split(" ", 1)[1] for li in browser.find_elements("css selector", "#events li")] == \
        [e.split(" ", 1)[1] for e in events]


def test_following_an_llm_job_shows_token_progress(browser, web_server, api, keys, llm_worker):
    from selenium.webdriver.support.ui import WebDriverWait

    _, job, _ = api("POST", "/v1/jobs", {"type": "depression", "text": "I have felt low for weeks",
                                         "options": {"max_new_tokens": 48}})
    _open(browser, web_server, keys["clinic-a"])
    browser.find_element("id", "job-id").send_keys(job["id"] + "\n")
    WebDriverWait(browser, 120).until(lambda d: _text(d, "connection") == "finished")
    assert _text(browser, "state") == wait_job(api, job["id"])["state"] == "succeeded"
    events = [li.text for li in browser.find_elements("css selector", "#events li")]
    assert any("tokens" in e for e in events), events  # the engine's progress reached the page
    assert '"parsed"' in _text(browser, "result")


def test_errors_are_shown_not_swallowed(browser, web_server, keys):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, web_server, keys["clinic-a"])
    browser.find_element("id", "job-id").send_keys("3f0c1a4e-0000-4000-8000-000000000000\n")
    WebDriverWait(browser, 20).until(lambda d: "NOT_FOUND" in _text(d, "message"))
    field = browser.find_element("id", "api-key")
    field.clear()
    field.send_keys("mq_wrong_key\t")
    WebDriverWait(browser, 20).until(lambda d: "INVALID_API_KEY" in _text(d, "message"))


def test_the_page_says_when_a_demo_model_serves(browser, web_server, keys):
    select = _open(browser, web_server, keys["clinic-a"])
    notice = browser.find_element("id", "model-notice")
    assert notice.is_displayed() and "not for clinical use" in notice.text
    labels = {o.get_attribute("value"): o.text for o in select.options}
    assert "not trained" in labels["risk"] and "not trained" not in labels["imhi.dr"]
