"""Stimulus studies: stimulus media with event markers, invitation links, and participants' readings on the stimulus' time axis."""
from django.apps import AppConfig
from django.db.models.signals import post_delete


class StimuliConfig(AppConfig):
    name = "emotion.stimuli"
    label = "stimuli"
    verbose_name = "Stimulus studies"

    def ready(self):
        from .library.services import forget_file
        from .models import Stimulus

        # a stimulus deleted with its study or its owner's account takes its file along too
        post_delete.connect(forget_file, sender=Stimulus, dispatch_uid="stimulus-file")
