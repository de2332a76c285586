from django.urls import path

from entatio.live import views

SESSION = "live/<str:code>/"

urlpatterns = [
    path("presentations/<int:presentation_id>/live/", views.start, name="live_start"),
    path("live/now/", views.live_now, name="live_now"),
    path(SESSION, views.attend, name="live_attend"),
    path(SESSION + "present/", views.present, name="live_present"),
    path(SESSION + "move/", views.move, name="live_move"),
    path(SESSION + "check-in/", views.check_in, name="live_check_in"),
    path(SESSION + "end/", views.end, name="live_end"),
]
