from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("emotion.research.api_urls")),
    path("live/", include("emotion.live.urls")),
    path("analyses/", include("emotion.research.urls")),
    path("", include("emotion.urls")),
]
