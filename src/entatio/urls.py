from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("entatio.crm.urls")),
    path("insights/", include("entatio.insights.urls")),
    path("", include("entatio.discussions.urls")),
    path("", include("entatio.live.urls")),
    path("", include("entatio.web.urls")),
]
