from __future__ import annotations

from django.urls import URLPattern, path

from attention import apis

urlpatterns: list[URLPattern] = [
    path("circles/<slug:slug>/followups/", apis.CircleFollowUpsApi.as_view(), name="followups"),
    path("followups/<int:followup_id>/done/", apis.FollowUpDoneApi.as_view(), name="followup-done"),
    path(
        "followups/<int:followup_id>/claim/", apis.FollowUpClaimApi.as_view(), name="followup-claim"
    ),
    path(
        "followups/<int:followup_id>/notes/", apis.FollowUpNoteApi.as_view(), name="followup-notes"
    ),
]
