from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("", views.page, name="page"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/session.<str:fmt>", views.export, name="export"),
    # the private link given once to whoever stored the session (access.py)
    path("s/<int:pk>/<str:key>/", views.private, name="private"),
    path("s/<int:pk>/<str:key>/session.<str:fmt>", views.private_export, name="private-export"),
]
