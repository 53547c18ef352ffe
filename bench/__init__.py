"""Benchmarks: scripts run by hand, each measuring one speed target (see README.md)."""

from __future__ import annotations
