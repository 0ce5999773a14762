from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("", views.page, name="page"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
]
