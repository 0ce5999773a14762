from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.your_data, name="your-data"),
    path("download/", views.download, name="download"),
    path("delete/", views.delete, name="delete"),
]
