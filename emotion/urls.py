from django.urls import path

from . import views

app_name = "emotion"
urlpatterns = [path("", views.home, name="home")]
