"""permessage-deflate in a real browser: headless Chromium negotiates it on
the example's echo page (``socket.extensions``) and exchanges messages that
both sides compress (over the server's 128-byte threshold), then small ones."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from test_browser import texts, wait_open, wait_texts


def test_echo_page_negotiates_and_uses_permessage_deflate(live_server, new_browser):
    driver = new_browser()
    driver.get(live_server.base_url + "/echo/")
    wait_open(driver)
    assert driver.find_element(By.ID, "extensions").text == (
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
    messages = [
        " ".join(["compressible"] * 400),  # (.text trims: no spaces at the ends)
        " ".join(["ünïcødé ✓ 下载完成"] * 300),
        '{"rows": [' + ", ".join(f'{{"id": {i}, "name": "row {i}"}}' for i in range(500)) + "]}",
        "short",
    ]
    for text in messages:
        driver.execute_script("document.getElementById('text').value = arguments[0];", text)
        driver.find_element(By.ID, "send").click()
    wait_texts(driver, "#log .received", messages)
    assert texts(driver, "#log .sent") == messages
    assert driver.find_element(By.ID, "status").text == "open"
