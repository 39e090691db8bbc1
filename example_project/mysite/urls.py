from django.urls import include, path, re_path

from demo import views

urlpatterns = [
    # The blog post's two URLs (it used url(); re_path() is today's spelling).
    re_path(r"^login/", views.login),
    re_path(r"^path/", views.path),
    # An echo page and a chat room.
    path("echo/", views.echo, name="echo"),
    path("chat/", views.chat, name="chat"),
    path("download/", views.download, name="download"),
    path("", views.index, name="index"),
    # Endpoints used by the integration tests (tests/integration/).
    path("ws/", include("testapp.urls")),
]
