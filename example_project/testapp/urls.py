"""Endpoints for tests/integration: not part of the tutorial."""

from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.health),
    path("echo/", views.echo),
    path("close/", views.close),
    path("raise/", views.raise_),
    path("require/", views.require),
    path("user/", views.user),
    path("info/", views.info),
    path("send-then-return/", views.send_then_return),
    path("test-login/", views.test_login),
    # tests/groups
    path("group/<str:name>/", views.group_member),
    path("group-publish/", views.group_publish),
    path("process-stats/", views.process_stats),
    # tests/robustness
    path("stream/", views.stream),
    path("slow-echo/", views.slow_echo),
    path("big-views/", views.big_views),
    path("interrupted-send/", views.interrupted_send),
    path("two-readers/", views.two_readers),
]
