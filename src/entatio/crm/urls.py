from django.urls import path

from entatio.crm import views

urlpatterns = [
    path("portals/<int:portal_id>/crm/sync/", views.sync_page, name="crm_sync"),
    path("portals/<int:portal_id>/crm/sync/now/", views.sync_now, name="crm_sync_now"),
    path(
        "portals/<int:portal_id>/crm/sync/retry/",
        views.retry_failed_rows,
        name="crm_retry_failed",
    ),
]
