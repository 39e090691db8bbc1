"""Fixtures for tests/django: each server of django_servers, for real."""

import pytest

from django_servers import WEBSOCKET_SERVERS, wsgi_server


@pytest.fixture(scope="module", params=WEBSOCKET_SERVERS)
def server(request, tmp_path_factory):
    with wsgi_server(request.param, tmp_path_factory.mktemp(request.param)) as running:
        yield running
