from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.health),
    path("echo/", views.echo),
    path("only_ws/", views.only_ws),
    path("undecorated/", views.undecorated),
    path("how/", views.how),
]
