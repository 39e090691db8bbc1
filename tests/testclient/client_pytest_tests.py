"""The same client under pytest-django (test_websocket_client.py runs this
file in a pytest of its own, with --ds=clientsite.settings)."""

import pytest

from dwebsocket_c.testing import WebSocketClient


@pytest.mark.django_db
def test_logged_in_user_created_in_the_test(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="linus"))
    with WebSocketClient(client).connect("/ws/user/") as ws:
        assert ws.receive() == "linus"
    assert ws.close_code == 1000


def test_echo_without_database():
    with WebSocketClient().connect("/echo/") as ws:
        ws.send("ping")
        assert ws.receive() == "ping"
        assert ws.receive_nothing()
