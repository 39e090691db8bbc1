"""The tutorial pages in a real browser: headless Chromium via Selenium."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 15


def texts(driver, selector):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def console(driver):
    try:
        return [f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser")]
    except Exception as exc:  # not every driver keeps the log
        return [f"(no console log: {exc!r})"]


def status(driver):
    return driver.find_element(By.ID, "status").text


def wait_status(driver, expected):
    try:
        WebDriverWait(driver, TIMEOUT).until(lambda d: status(d) == expected)
    except Exception:
        raise AssertionError(
            f"status: expected {expected!r}, got {status(driver)!r}; console: {console(driver)}") from None


def wait_open(driver):
    wait_status(driver, "open")


def wait_texts(driver, selector, expected):
    try:
        WebDriverWait(driver, TIMEOUT).until(lambda d: texts(d, selector) == expected)
    except Exception:
        raise AssertionError(
            f"{selector}: expected {expected!r}, got {texts(driver, selector)!r}; "
            f"status {status(driver)!r}; console: {console(driver)}") from None


def test_login_page_shows_the_pushed_message(live_server, new_browser):
    driver = new_browser()
    driver.get(live_server.base_url + "/login/")
    wait_texts(driver, "#messages .message", ["下载完成"])
    # the view returned: the library closed the websocket normally
    wait_status(driver, "closed (1000)")


def test_echo_page(live_server, new_browser):
    driver = new_browser()
    driver.get(live_server.base_url + "/echo/")
    wait_open(driver)
    box = driver.find_element(By.ID, "text")
    for text in ["hello", "ünïcødé ✓ 下载完成"]:
        box.send_keys(text)
        driver.find_element(By.ID, "send").click()
    wait_texts(driver, "#log .received", ["hello", "ünïcødé ✓ 下载完成"])
    assert texts(driver, "#log .sent") == ["hello", "ünïcødé ✓ 下载完成"]
    assert status(driver) == "open"


def say(driver, text):
    driver.find_element(By.ID, "text").send_keys(text)
    driver.find_element(By.ID, "send").click()


def test_chat_between_two_browsers(live_server, new_browser):
    alice, bob = new_browser(), new_browser()
    # Alice joins; her own message coming back proves the view put her in the room.
    alice.get(live_server.base_url + "/chat/")
    wait_open(alice)
    say(alice, "alice is here")
    wait_texts(alice, "#messages .message", ["alice is here"])
    # Then Bob, in a separate browser session (its own profile and cookies).
    bob.get(live_server.base_url + "/chat/")
    wait_open(bob)
    say(bob, "bob is here")
    wait_texts(bob, "#messages .message", ["bob is here"])
    wait_texts(alice, "#messages .message", ["alice is here", "bob is here"])
    # Now a message from one shows in both.
    say(alice, "hello bob ✓ 下载完成")
    wait_texts(alice, "#messages .message", ["alice is here", "bob is here", "hello bob ✓ 下载完成"])
    wait_texts(bob, "#messages .message", ["bob is here", "hello bob ✓ 下载完成"])
