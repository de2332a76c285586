from django.urls import path

from entatio.discussions import views

PRESENTATION = "presentations/<int:presentation_id>/"
POST = "discussion/posts/<int:post_id>/"

urlpatterns = [
    path(PRESENTATION + "discussion/", views.thread_page, name="discussion_thread"),
    path(PRESENTATION + "discussion/posts/", views.write_post, name="discussion_post"),
    path(POST + "edit/", views.change_post, name="edit_post"),
    path(POST + "delete/", views.remove_post, name="delete_post"),
    path(
        PRESENTATION + "discussions/",
        views.presentation_discussions,
        name="presentation_discussions",
    ),
]
