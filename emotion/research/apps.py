from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "emotion.research"
    label = "research"
    verbose_name = "Research analyses"
