"""A stimulus' group time course: its page under /stimuli/ and its API under /api/."""

from django.urls import path, re_path

from . import api as api_course
from . import views as course_views

urlpatterns = [
    path("<int:pk>/time-course/", course_views.time_course_page, name="stimulus-time-course"),
]
api_urlpatterns = [
    re_path(r"^stimuli/(?P<pk>[0-9]+)/time-course/?$", api_course.StimulusTimeCourse.as_view(),
            name="stimulus-time-course-api"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/time-course\.csv/?$", api_course.StimulusTimeCourseCSV.as_view(),
            name="stimulus-time-course-csv"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/markers/means\.csv/?$", api_course.StimulusMarkerMeansCSV.as_view(),
            name="stimulus-marker-means-csv"),
]
