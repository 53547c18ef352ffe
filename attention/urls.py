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
    path("circles/<slug:slug>/concerns/", apis.CircleConcernsApi.as_view(), name="concerns"),
    path("circles/<slug:slug>/concerns/mine/", apis.MyConcernsApi.as_view(), name="concerns-mine"),
    path("concerns/<int:concern_id>/", apis.ConcernApi.as_view(), name="concern"),
    path("concerns/<int:concern_id>/notes/", apis.ConcernNoteApi.as_view(), name="concern-notes"),
    path(
        "concerns/<int:concern_id>/referral/",
        apis.ConcernReferralApi.as_view(),
        name="concern-referral",
    ),
    path("concerns/<int:concern_id>/close/", apis.ConcernCloseApi.as_view(), name="concern-close"),
]
