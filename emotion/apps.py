from django.apps import AppConfig


class EmotionConfig(AppConfig):
    name = "emotion"
    verbose_name = "Emotion recognition"

    def ready(self):
        from fersite import health

        def model_loaded() -> None:
            from .runtime import get_engine

            get_engine()          # loads it here if it was not yet: a process that passes is warm

        health.register("model", model_loaded)
