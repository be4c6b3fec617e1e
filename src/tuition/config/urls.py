from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("tuition.config.api_urls")),
    path("reports/", include("tuition.reports.urls")),
    path("", include("tuition.ops.urls")),
    path("", include("tuition.portal.urls")),
]
