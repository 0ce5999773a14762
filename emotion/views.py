from django.shortcuts import render

from .engine_card import model_card


def home(request):
    return render(request, "home.html", {"card": model_card()})
