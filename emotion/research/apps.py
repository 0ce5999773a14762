from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "emotion.research"
    label = "research"
    verbose_name = "Research analyses"

    def ready(self):
        # the site's readiness and metrics read what this app registers (fersite imports no app)
        from emotion.web import health, metrics

        from .analyses.services import require_queue
        from .metrics import AnalysisCollector

        health.register("queue", require_queue)
        if not any(isinstance(c, AnalysisCollector) for c in metrics.REGISTRY._collector_to_names):
            metrics.REGISTRY.register(AnalysisCollector())       # once, however often ready() runs
