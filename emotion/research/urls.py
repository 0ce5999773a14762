from django.urls import path

from . import views

app_name = "research"
urlpatterns = [
    path("", views.analysis_list, name="list"),
    path("<int:pk>/", views.analysis_detail, name="detail"),
    path("<int:pk>/frames/<int:frame>.jpg", views.frame_image, name="frame"),
    path("<int:pk>/results.csv", views.download_csv, name="csv"),
    path("<int:pk>/annotated", views.download_annotated, name="annotated"),
    path("<int:pk>/original", views.original, name="original"),
    path("<int:pk>/rerun", views.rerun, name="rerun"),
    path("<int:pk>/delete", views.delete, name="delete"),
]
