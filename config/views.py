"""Platform-level pages that belong to no single app."""

from django.shortcuts import render


def landing(request):
    return render(request, "landing.html")
