from django.urls import path

from . import views

NAMES = [
    "health", "plain", "echo", "blog", "server_close", "boom", "info", "badsend",
    "push", "broadcast", "read_nb", "idle", "closer_thread",
]
urlpatterns = [path(f"{name}/", getattr(views, name)) for name in NAMES]
