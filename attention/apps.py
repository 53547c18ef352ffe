from __future__ import annotations

from django.apps import AppConfig


class AttentionConfig(AppConfig):
    name = "attention"
    verbose_name = "Attention queue"
