from __future__ import annotations

from django.apps import AppConfig


class HelpersConfig(AppConfig):
    name = "helpers"
