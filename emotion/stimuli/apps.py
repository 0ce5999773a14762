from django.apps import AppConfig


class StimuliConfig(AppConfig):
    name = "emotion.stimuli"
    label = "stimuli"
    verbose_name = "Stimulus studies"
