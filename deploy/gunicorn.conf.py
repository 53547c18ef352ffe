"""Gunicorn settings for Circle's web processes (`gunicorn -c deploy/gunicorn.conf.py`)."""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Requests mostly wait on PostgreSQL, so a couple of threads per worker use the CPU well.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "2"))
wsgi_app = "circle.wsgi:application"
# Restart workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
timeout = 30
graceful_timeout = 30
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
