from django.urls import path

from .analyses import views
from .stats import views as stats_views
from .studies import variable_views
from .studies import views as study_views

app_name = "research"
urlpatterns = [
    path("", views.analysis_list, name="list"),
    path("<int:pk>/", views.analysis_detail, name="detail"),
    path("<int:pk>/edit", views.edit, name="edit"),
    path("<int:pk>/frames/<int:frame>.jpg", views.frame_image, name="frame"),
    path("<int:pk>/results.csv", views.download_csv, name="csv"),
    path("<int:pk>/annotated", views.download_annotated, name="annotated"),
    path("<int:pk>/original", views.original, name="original"),
    path("<int:pk>/rerun", views.rerun, name="rerun"),
    path("<int:pk>/delete", views.delete, name="delete"),
    path("<int:pk>/labels", stats_views.upload_labels, name="labels"),
    path("studies/", study_views.study_list, name="studies"),
    path("studies/<int:pk>/", study_views.study_detail, name="study"),
    path("studies/<int:pk>/members", study_views.study_members, name="study_members"),
    path("studies/<int:pk>/invitation", study_views.study_invitation, name="study_invitation"),
    path("studies/<int:pk>/delete", study_views.study_delete, name="study_delete"),
    path("studies/<int:pk>/variables", variable_views.define, name="study_variable"),
    path("studies/<int:pk>/variables.csv", variable_views.import_csv, name="study_variables_import"),
]
