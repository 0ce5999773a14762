from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from fersite.health import healthz, readyz
from fersite.media import staff_media
from fersite.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("emotion.research.api_urls")),
    path("live/", include("emotion.live.urls")),
    path("analyses/", include("emotion.research.urls")),
    path("account/data/", include("emotion.privacy.urls")),
    # The admin's links to stored files (staff only, as downloads).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", staff_media, name="staff-media"),
    path("", include("emotion.urls")),
]
