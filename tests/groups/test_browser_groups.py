"""Headless Chromium on the example pages, the servers on one Redis: two
windows served by two different worker processes chat; the download page
shows the progress a management command sends from its own process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "browser"))

from chromium_sessions import ChromiumSessions  # noqa: E402

from dwebsocket_c.groups.redis_backend import channel_name  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 20


@pytest.fixture
def new_browser():
    sessions = ChromiumSessions()
    yield sessions.new
    sessions.close()


def _texts(driver, selector):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def _wait(driver, what, condition):
    try:
        WebDriverWait(driver, TIMEOUT).until(condition)
    except Exception:
        log = driver.get_log("browser")
        raise AssertionError(f"{what}; page text: {driver.find_element(By.TAG_NAME, 'body').text!r}; "
                             f"console: {log}") from None


def _say(driver, text):
    driver.find_element(By.ID, "text").send_keys(text)
    driver.find_element(By.ID, "send").click()


def test_two_windows_on_two_worker_processes_chat(group_servers, redis_server, new_browser):
    import redis

    alice_server, bob_server = group_servers["gunicorn-gevent"], group_servers["uwsgi"]
    alice, bob = new_browser(), new_browser()
    for driver, server in ((alice, alice_server), (bob, bob_server)):
        driver.get(server.base_url + "/chat/")
        _wait(driver, "chat open", lambda d: d.find_element(By.ID, "status").text == "open")
    # "open" comes with the handshake, the view joins the room just after:
    # wait until both processes subscribed to the room's channel.
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    _wait(alice, "both processes subscribed to the chat group",
          lambda d: client.pubsub_numsub(channel_name("chat"))[0][1] >= 2)
    expected = []
    for speaker, text in ((alice, "hello from gevent ✓"), (bob, "下载完成 from uWSGI")):
        _say(speaker, text)
        expected.append(text)
        for driver in (alice, bob):
            _wait(driver, f"{expected} in {'Alice' if driver is alice else 'Bob'}'s window",
                  lambda d: _texts(d, "#messages .message") == expected)


def test_download_page_shows_progress_sent_by_another_process(group_servers, new_browser):
    driver = new_browser()
    driver.get(group_servers["gunicorn-gthread"].base_url + "/download/")
    _wait(driver, "下载完成 shown", lambda d: d.find_element(By.ID, "done").text == "下载完成")
    assert driver.find_element(By.ID, "progress").text == "100%"
