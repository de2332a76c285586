from django.urls import path, re_path

from entatio.insights import views

PAGE_NAMES = "|".join(views.PAGES)

urlpatterns = [
    re_path(
        rf"^(?P<portal_id>\d+)/(?P<name>{PAGE_NAMES})/$",
        views.insights_page,
        name="insights_page",
    ),
    path(
        "<int:portal_id>/",
        views.insights_page,
        {"name": "discovery"},
        name="insights_home",
    ),
]
