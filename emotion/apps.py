from django.apps import AppConfig


class EmotionConfig(AppConfig):
    name = "emotion"
    verbose_name = "Emotion recognition"

    def ready(self):
        from django.conf import settings

        from emotion.web import health

        for folder in settings.FER_FOLDERS:       # settings name them; made here, once Django starts
            folder.mkdir(parents=True, exist_ok=True)

        def model_loaded() -> None:
            from .runtime import get_engine

            get_engine()          # loads it here if it was not yet: a process that passes is warm

        health.register("model", model_loaded)
