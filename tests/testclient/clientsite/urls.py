from django.urls import include, path

urlpatterns = [
    path("wsproject/", include("wsproject.urls")),
    path("", include("mysite.urls")),
]
