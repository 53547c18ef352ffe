"""The pages' addresses (DESIGN.md, "Web pages"). Only the root URLconf includes this."""

from __future__ import annotations

from django.urls import path

from web.views import auth, public, unbuilt
from web.views.console import find as console_find
from web.views.console import register as console_register
from web.views.member import ask, details, home, join, pay, preferences, requests, tokens

app_name = "web"

urlpatterns = [
    path("", public.start, name="start"),
    path("circles/<slug:slug>/", public.circle_page, name="circle"),
    path("privacy/", public.privacy, name="privacy"),
    path("accessibility/", public.accessibility, name="accessibility"),
    # Signing in and out.
    path("sign-in/", auth.sign_in, name="sign-in"),
    path("sign-out/", auth.sign_out, name="sign-out"),
    path("password-reset/", auth.password_reset, name="password-reset"),
    path("password-reset/sent/", auth.password_reset_sent, name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("password-reset/done/", auth.password_reset_done, name="password-reset-done"),
    # Joining, one question a page.
    path("circles/<slug:slug>/join/", join.start, name="join"),
    path("circles/<slug:slug>/join/check/", join.check, name="join-check"),
    path("circles/<slug:slug>/join/<slug:step>/", join.question, name="join-step"),
    # The member's own pages.
    path("my/", home.home, name="member-home"),
    path("my/circle/", home.choose_circle, name="member-choose-circle"),
    path("my/ask/", ask.start, name="member-ask"),
    path("my/ask/check/", ask.check, name="member-ask-check"),
    path("my/ask/<slug:step>/", ask.question, name="member-ask-step"),
    path("my/requests/<int:task_id>/", requests.detail, name="member-request"),
    path("my/requests/<int:task_id>/cancel/", requests.cancel, name="member-request-cancel"),
    path("my/requests/<int:task_id>/done/", requests.confirm, name="member-request-confirm"),
    path("my/tokens/", tokens.statement, name="member-tokens"),
    path("my/pay/", pay.overview, name="member-pay"),
    path("my/pay/membership/", pay.membership, name="member-pay-membership"),
    path("my/pay/tokens/", pay.buy_tokens, name="member-pay-tokens"),
    path("my/helpers/", preferences.helpers, name="member-helpers"),
    path("my/on-my-behalf/", home.on_my_behalf, name="member-behalf"),
    path("my/details/", details.overview, name="member-details"),
    path("my/details/<slug:field>/", details.change, name="member-details-change"),
    # Helpers' pages (a phone first).
    path("circles/<slug:slug>/helpers/join/", unbuilt.page, name="helper-join"),
    path("helper/", unbuilt.page, name="helper-feed"),
    path("helper/tasks/<int:task_id>/", unbuilt.page, name="helper-task"),
    path("helper/mine/", unbuilt.page, name="helper-mine"),
    path("helper/profile/", unbuilt.page, name="helper-profile"),
    # The operators' console.
    path("console/<slug:slug>/", console_find.find, name="console"),
    path("console/<slug:slug>/members/new/", console_register.register, name="console-register"),
    path("console/<slug:slug>/members/<int:member_id>/", unbuilt.page, name="console-member"),
    path(
        "console/<slug:slug>/members/<int:member_id>/payments/new/",
        unbuilt.page,
        name="console-payment",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/pay-link/",
        unbuilt.page,
        name="console-pay-link",
    ),
    path("console/<slug:slug>/follow-ups/", unbuilt.page, name="console-follow-ups"),
    # A signed card-payment link (an operator's SMS or email).
    path("pay/<str:token>/", unbuilt.page, name="pay-link"),
]
