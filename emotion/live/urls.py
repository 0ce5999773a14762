from django.http import HttpResponse
from django.urls import path

app_name = "live"
# placeholder until the live page lands
urlpatterns = [path("", lambda request: HttpResponse("soon"), name="page")]
