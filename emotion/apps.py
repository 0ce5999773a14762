from django.apps import AppConfig


class EmotionConfig(AppConfig):
    name = "emotion"
    verbose_name = "Emotion recognition"
