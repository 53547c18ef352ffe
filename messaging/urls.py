from __future__ import annotations

from django.urls import URLPattern, path

from messaging import apis

urlpatterns: list[URLPattern] = [
    path("sms/twilio/status/", apis.TwilioStatusApi.as_view(), name="sms-twilio-status"),
    path("members/<int:member_id>/claim-link/", apis.ClaimLinkApi.as_view(), name="claim-link"),
    path("sms/notify/status/", apis.NotifyStatusApi.as_view(), name="sms-notify-status"),
]
