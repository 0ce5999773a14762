from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import stats as api_stats
from . import variables as api_variables
from .analyses import AnalysisViewSet, StudyViewSet
from .docs import ApiDocs, ApiIndex

router = SimpleRouter()
# The slash is optional: /api/analyses/7/results.csv reads better without one, and scripts
# that add one still work.
router.trailing_slash = "/?"
router.register("analyses", AnalysisViewSet, basename="analysis")
router.register("studies", StudyViewSet, basename="study")
urlpatterns = [
    path("", ApiIndex.as_view(), name="api-index"),
    path("docs/", ApiDocs.as_view(), name="api-docs"),
    # a study's statistics and exports, an analysis' baseline and hand labels (api/stats.py)
    re_path(r"^studies/(?P<pk>[0-9]+)/summary/?$", api_stats.StudySummaryView.as_view(), name="study-summary"),
    re_path(r"^studies/(?P<pk>[0-9]+)/results\.csv/?$", api_stats.StudyResultsCSV.as_view(), name="study-results-csv"),
    re_path(r"^studies/(?P<pk>[0-9]+)/results\.json/?$", api_stats.StudyResultsJSON.as_view(),
            name="study-results-json"),
    re_path(r"^studies/(?P<pk>[0-9]+)/summary\.csv/?$", api_stats.StudySummaryCSV.as_view(), name="study-summary-csv"),
    re_path(r"^studies/(?P<pk>[0-9]+)/statistics/?$", api_stats.StudyInferenceView.as_view(), name="study-statistics"),
    re_path(r"^studies/(?P<pk>[0-9]+)/participant-means\.csv/?$", api_stats.StudyTidyCSV.as_view(),
            name="study-participant-means-csv"),
    # participant variables, their values and their CSV (api/variables.py)
    re_path(r"^studies/(?P<pk>[0-9]+)/variables/?$", api_variables.StudyVariables.as_view(), name="study-variables"),
    re_path(r"^studies/(?P<pk>[0-9]+)/variables/(?P<name>[A-Za-z][A-Za-z0-9_]*)/?$",
            api_variables.StudyVariable.as_view(), name="study-variable"),
    re_path(r"^studies/(?P<pk>[0-9]+)/variables\.csv/?$", api_variables.VariablesCSV.as_view(),
            name="study-variables-csv"),
    re_path(r"^studies/(?P<pk>[0-9]+)/participant-values/?$", api_variables.ParticipantValues.as_view(),
            name="study-participant-values"),
    re_path(r"^analyses/(?P<pk>[0-9]+)/baseline/?$", api_stats.AnalysisBaselineView.as_view(), name="analysis-baseline"),
    re_path(r"^analyses/(?P<pk>[0-9]+)/labels/?$", api_stats.AnalysisLabelsView.as_view(), name="analysis-labels"),
    re_path(r"^analyses/(?P<pk>[0-9]+)/agreement/?$", api_stats.AnalysisAgreementView.as_view(),
            name="analysis-agreement"),
    *router.urls,
]
