from django.urls import path

from entatio.web import views

urlpatterns = [
    path("", views.library, name="library"),
]
