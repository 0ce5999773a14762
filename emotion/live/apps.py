from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "emotion.live"
    label = "live"
    verbose_name = "Live sessions"
