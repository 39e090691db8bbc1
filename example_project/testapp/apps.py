from django.apps import AppConfig


class TestappConfig(AppConfig):
    name = "testapp"
    verbose_name = "Endpoints for tests/integration (not part of the tutorial)"
