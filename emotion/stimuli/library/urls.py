"""Stimuli and their event markers: pages under /stimuli/, API under /api/ (fersite/urls.py mounts both
without a namespace, so every name says what it is)."""

from django.urls import path, re_path

from . import api, api_markers, marker_views, views

urlpatterns = [
    path("studies/<int:study_pk>/upload", views.upload_into_study, name="study-stimulus-upload"),
    path("<int:pk>/", views.stimulus_detail, name="stimulus-page"),
    path("<int:pk>/media", views.stimulus_media, name="stimulus-media"),
    path("<int:pk>/edit", views.stimulus_edit, name="stimulus-edit"),
    path("<int:pk>/delete", views.stimulus_delete, name="stimulus-delete"),
    path("<int:pk>/markers", marker_views.marker_add, name="stimulus-marker-add"),
    path("<int:pk>/markers/<int:marker_id>", marker_views.marker_edit, name="stimulus-marker-edit"),
    path("<int:pk>/markers/<int:marker_id>/delete", marker_views.marker_delete, name="stimulus-marker-delete"),
    path("<int:pk>/markers.csv", marker_views.markers_csv, name="stimulus-markers-csv"),
]

# the slash is optional, as in research/api/urls.py
api_urlpatterns = [
    re_path(r"^studies/(?P<pk>[0-9]+)/stimuli/?$", api.StudyStimuli.as_view(), name="api-study-stimuli"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/?$", api.StimulusDetail.as_view(), name="api-stimulus"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/media/?$", api.StimulusMedia.as_view(), name="api-stimulus-media"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/markers/?$", api_markers.Markers.as_view(), name="api-stimulus-markers"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/markers\.csv/?$", api_markers.MarkersCSV.as_view(),
            name="api-stimulus-markers-csv"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/markers/(?P<marker_id>[0-9]+)/?$", api_markers.Marker.as_view(),
            name="api-stimulus-marker"),
]
