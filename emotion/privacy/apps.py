from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "emotion.privacy"
    label = "privacy"
    verbose_name = "Retention and privacy"
