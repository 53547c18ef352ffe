from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")

app = Celery("circle")
# Every CELERY_* setting in circle/settings.py configures the app; with no broker configured,
# CELERY_TASK_ALWAYS_EAGER runs tasks in-process so a laptop needs no Redis.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
