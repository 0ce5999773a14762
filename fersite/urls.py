from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from emotion.web.health import healthz, readyz
from emotion.stimuli.urls import api_urlpatterns as stimuli_api, urlpatterns as stimuli_pages
from emotion.stored_media import stored_media
from emotion.web.metrics import metrics_view

# Django's account pages, less password reset: it sends mail, and this site has no mail server set
# up (each request then logged a traceback, unthrottled). Staff reset passwords in the admin.
account_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

urlpatterns = [
    # browsers ask for /favicon.ico whatever the page says: send them to the icon
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("emotion.research.api.urls")),
    path("api/", include(stimuli_api)),
    path("stimuli/", include(stimuli_pages)),
    path("live/", include("emotion.live.urls")),
    path("analyses/", include("emotion.research.urls")),
    path("account/data/", include("emotion.privacy.urls")),
    # The admin's links to stored files (research.view_analysis only, as downloads: emotion/access.py).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", stored_media, name="stored-media"),
    path("", include("emotion.urls")),
]
