from django.urls import path

from .analyses.consumers import AnalysisProgressConsumer

websocket_urlpatterns = [path("ws/analyses/<int:pk>/", AnalysisProgressConsumer.as_asgi())]
