from django.urls import path

import views

urlpatterns = [path("echo/", views.echo)]
