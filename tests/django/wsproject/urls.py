from django.urls import path

from . import views

NAMES = [
    "health", "plain", "echo", "blog", "server_close", "boom", "info", "badsend",
    "push", "broadcast", "read_nb", "idle", "closer_thread",
    "old_iter", "old_poll", "old_wait", "old_room", "old_post",
]
urlpatterns = [path(f"{name}/", getattr(views, name)) for name in NAMES]
