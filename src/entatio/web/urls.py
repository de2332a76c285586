from django.contrib.auth import views as auth_views
from django.urls import include, path

from entatio.web.views import (
    assembly,
    downloads,
    editor,
    engagement,
    exports,
    library,
    media,
    search,
    sharing,
    signup,
    upload,
    viewer,
)

PRESENTATION = "presentations/<int:presentation_id>/"
SLIDE_IN_PRESENTATION = PRESENTATION + "slides/<int:slide_id>/"

urlpatterns = [
    path("login/", signup.RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", library.library, name="library"),
    path("portal/", library.switch_portal, name="switch_portal"),
    path("upload/", upload.upload, name="upload"),
    path("upload/file/", upload.upload_file, name="upload_file"),
    path(
        "sources/<int:source_id>/status/",
        upload.source_status,
        name="source_status",
    ),
    path(PRESENTATION, viewer.viewer, name="viewer"),
    path(PRESENTATION + "edit/", editor.editor, name="editor"),
    path(PRESENTATION + "title/", editor.rename, name="rename_presentation"),
    path(PRESENTATION + "order/", editor.reorder, name="reorder_slides"),
    path(SLIDE_IN_PRESENTATION, editor.edit_slide, name="edit_slide"),
    path(SLIDE_IN_PRESENTATION + "hidden/", editor.hide_slide, name="hide_slide"),
    path(SLIDE_IN_PRESENTATION + "move/", editor.move_slide, name="move_slide"),
    path("search/", search.search, name="search"),
    path(PRESENTATION + "insert/", assembly.picker, name="slide_picker"),
    path(PRESENTATION + "insert/add/", assembly.insert, name="insert_slides"),
    path(PRESENTATION + "cards/", assembly.add_card, name="add_text_card"),
    path(PRESENTATION + "origins/", assembly.origins, name="slide_origins"),
    path(SLIDE_IN_PRESENTATION + "remove/", assembly.remove, name="remove_slide"),
    path(SLIDE_IN_PRESENTATION + "replace/", assembly.replace, name="replace_slide"),
    path(SLIDE_IN_PRESENTATION + "copy/", assembly.copy_page, name="copy_slide_page"),
    path(SLIDE_IN_PRESENTATION + "copy/make/", assembly.copy, name="copy_slide"),
    path(SLIDE_IN_PRESENTATION + "card/", assembly.edit_card, name="edit_text_card"),
    path(PRESENTATION + "share/", sharing.share, name="share"),
    path(
        PRESENTATION + "share/group/",
        sharing.share_with_group,
        name="share_with_group",
    ),
    path(
        PRESENTATION + "share/new-group/",
        sharing.share_with_new_group,
        name="share_with_new_group",
    ),
    path(
        PRESENTATION + "share/<int:group_id>/revoke/",
        sharing.revoke,
        name="revoke_share",
    ),
    path(PRESENTATION + "engagement/", engagement.engagement, name="engagement"),
    path(
        PRESENTATION + "engagement.csv",
        engagement.engagement_csv,
        name="engagement_csv",
    ),
    path(
        PRESENTATION + "downloadable/",
        downloads.set_downloadable,
        name="set_downloadable",
    ),
    path(
        PRESENTATION + "download/original/",
        downloads.download_original,
        name="download_original",
    ),
    path(PRESENTATION + "download/pdf/", downloads.download_pdf, name="download_pdf"),
    path("events/", viewer.viewer_events, name="record_events"),
    path(
        "slides/<int:slide_id>/image/",
        viewer.slide_file,
        {"part": "image"},
        name="slide_image",
    ),
    path(
        "slides/<int:slide_id>/thumbnail/",
        viewer.slide_file,
        {"part": "thumbnail"},
        name="slide_thumbnail",
    ),
    path("slides/<int:slide_id>/media/", media.slide_media, name="slide_media"),
    path(
        "slides/<int:slide_id>/page/<str:grant>/<path:path>",
        media.slide_page,
        name="slide_page",
    ),
    path("exports/", exports.exports, name="exports"),
    path("exports/<str:kind>/", exports.export_file, name="export_file"),
    path("my-data/", exports.my_data, name="my_data"),
    path("", include("entatio.web.people_urls")),
]
