from rest_framework.routers import SimpleRouter

from .api import AnalysisViewSet

router = SimpleRouter()
# The slash is optional: /api/analyses/7/results.csv reads better without one, and scripts
# that add one still work.
router.trailing_slash = "/?"
router.register("analyses", AnalysisViewSet, basename="analysis")
urlpatterns = router.urls
