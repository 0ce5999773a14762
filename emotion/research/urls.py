from django.http import HttpResponse
from django.urls import path

app_name = "research"
urlpatterns = [path("", lambda request: HttpResponse("soon"), name="list")]
