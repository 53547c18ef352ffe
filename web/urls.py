"""The pages' addresses (DESIGN.md, "Web pages"). Only the root URLconf includes this."""

from __future__ import annotations

from django.urls import path

from web.views import auth, claim, concerns, gift_link, pay_link, public, trusted, two_factor
from web.views.console import book as console_book
from web.views.console import card as console_card
from web.views.console import data as console_data
from web.views.console import erase as console_erase
from web.views.console import find as console_find
from web.views.console import follow_ups
from web.views.console import payments as console_payments
from web.views.console import register as console_register
from web.views.console import trusted as console_trusted
from web.views.coordinator import concerns as coordinator_concerns
from web.views.coordinator import feedback as coordinator_feedback
from web.views.coordinator import helpers as coordinator_helpers
from web.views.coordinator import ledger as coordinator_ledger
from web.views.coordinator import queue as coordinator_queue
from web.views.coordinator import reports as coordinator_reports
from web.views.coordinator import settings as coordinator_settings
from web.views.coordinator import staff as coordinator_staff
from web.views.helper import feed as helper_feed
from web.views.helper import join as helper_join
from web.views.helper import mine as helper_mine
from web.views.helper import profile as helper_profile
from web.views.helper import tasks as helper_tasks
from web.views.member import ask, details, home, join, pay, preferences, requests, tokens
from web.views.member import data as member_data
from web.views.member import trusted as member_trusted

app_name = "web"

urlpatterns = [
    path("", public.start, name="start"),
    path("circles/<slug:slug>/", public.circle_page, name="circle"),
    path("privacy/", public.privacy, name="privacy"),
    path("accessibility/", public.accessibility, name="accessibility"),
    # Signing in and out.
    path("home/", auth.home, name="home"),
    path("sign-in/", auth.sign_in, name="sign-in"),
    path("sign-in/code/", two_factor.sign_in_code, name="sign-in-code"),
    path("sign-out/", auth.sign_out, name="sign-out"),
    # Staff two-factor sign-in: set it up, recovery codes, turn it off where allowed.
    path("account/two-factor/", two_factor.account, name="two-factor"),
    path("account/two-factor/set-up/", two_factor.set_up, name="two-factor-set-up"),
    path(
        "account/two-factor/recovery-codes/",
        two_factor.recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path("account/two-factor/turn-off/", two_factor.remove, name="two-factor-remove"),
    path("password-reset/", auth.password_reset, name="password-reset"),
    path("password-reset/sent/", auth.password_reset_sent, name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("password-reset/done/", auth.password_reset_done, name="password-reset-done"),
    path("claim/<str:token>/", claim.claim, name="claim"),
    path(
        "console/<slug:slug>/members/<int:member_id>/claim-link/",
        claim.console,
        name="console-claim-link",
    ),
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
    path("my/trusted-persons/", member_trusted.overview, name="member-trusted"),
    path(
        "my/trusted-persons/<int:trusted_id>/end/",
        member_trusted.end,
        name="member-trusted-end",
    ),
    # A trusted person's own pages.
    path("trusted/", trusted.home, name="trusted-home"),
    path("trusted/<int:member_id>/", trusted.member, name="trusted-member"),
    path(
        "console/<slug:slug>/members/<int:member_id>/trusted-persons/new/",
        console_trusted.add,
        name="console-trusted-add",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/trusted-persons/<int:trusted_id>/end/",
        console_trusted.end,
        name="console-trusted-end",
    ),
    path("my/details/", details.overview, name="member-details"),
    path("my/details/<slug:field>/", details.change, name="member-details-change"),
    # Helpers' pages (a phone first).
    path("circles/<slug:slug>/helpers/join/", helper_join.start, name="helper-join"),
    path("circles/<slug:slug>/helpers/join/check/", helper_join.check, name="helper-join-check"),
    path(
        "circles/<slug:slug>/helpers/join/<slug:step>/",
        helper_join.question,
        name="helper-join-step",
    ),
    path("helper/", helper_feed.feed, name="helper-feed"),
    path("helper/tasks/<int:task_id>/", helper_tasks.detail, name="helper-task"),
    path("helper/tasks/<int:task_id>/accept/", helper_tasks.accept, name="helper-task-accept"),
    path("helper/tasks/<int:task_id>/done/", helper_tasks.done, name="helper-task-done"),
    path(
        "helper/tasks/<int:task_id>/hand-back/",
        helper_tasks.hand_back,
        name="helper-task-hand-back",
    ),
    path("helper/mine/", helper_mine.mine, name="helper-mine"),
    path("helper/profile/", helper_profile.overview, name="helper-profile"),
    path("helper/profile/pause/", helper_profile.pause, name="helper-profile-pause"),
    path("helper/profile/<slug:field>/", helper_profile.change, name="helper-profile-change"),
    # The operators' console.
    path("console/<slug:slug>/", console_find.find, name="console"),
    path("console/<slug:slug>/members/new/", console_register.register, name="console-register"),
    path("console/<slug:slug>/members/<int:member_id>/", console_card.card, name="console-member"),
    path(
        "console/<slug:slug>/members/<int:member_id>/details/",
        console_card.details,
        name="console-details",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/book/",
        console_book.book,
        name="console-book",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/requests/<int:task_id>/cancel/",
        console_book.cancel,
        name="console-request-cancel",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/requests/<int:task_id>/confirm/",
        console_book.confirm,
        name="console-request-confirm",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/payments/new/",
        console_payments.record,
        name="console-payment",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/pay-link/",
        console_payments.pay_link,
        name="console-pay-link",
    ),
    path("console/<slug:slug>/follow-ups/", follow_ups.queue, name="console-follow-ups"),
    path(
        "console/<slug:slug>/follow-ups/<int:item_id>/",
        follow_ups.detail,
        name="console-follow-up",
    ),
    path(
        "console/<slug:slug>/follow-ups/<int:item_id>/claim/",
        follow_ups.claim,
        name="console-follow-up-claim",
    ),
    path(
        "console/<slug:slug>/follow-ups/<int:item_id>/notes/",
        follow_ups.note,
        name="console-follow-up-note",
    ),
    path(
        "console/<slug:slug>/follow-ups/<int:item_id>/close/",
        follow_ups.close,
        name="console-follow-up-close",
    ),
    # The coordinators' desk.
    path("coordinator/<slug:slug>/", coordinator_queue.page, name="coordinator"),
    path(
        "coordinator/<slug:slug>/items/<int:item_id>/",
        coordinator_queue.item,
        name="coordinator-item",
    ),
    path(
        "coordinator/<slug:slug>/items/<int:item_id>/notes/",
        coordinator_queue.note,
        name="coordinator-item-note",
    ),
    path(
        "coordinator/<slug:slug>/items/<int:item_id>/assign/",
        coordinator_queue.assign,
        name="coordinator-item-assign",
    ),
    path(
        "coordinator/<slug:slug>/items/<int:item_id>/resolve/",
        coordinator_queue.resolve,
        name="coordinator-item-resolve",
    ),
    path("coordinator/<slug:slug>/ledger/", coordinator_ledger.page, name="coordinator-ledger"),
    path(
        "coordinator/<slug:slug>/ledger/audit/",
        coordinator_ledger.audit,
        name="coordinator-ledger-audit",
    ),
    path(
        "coordinator/<slug:slug>/ledger/transactions/",
        coordinator_ledger.transactions,
        name="coordinator-ledger-transactions",
    ),
    path(
        "coordinator/<slug:slug>/ledger/days/",
        coordinator_ledger.days,
        name="coordinator-ledger-days",
    ),
    path(
        "coordinator/<slug:slug>/ledger/transactions/<int:transaction_id>/",
        coordinator_ledger.transaction,
        name="coordinator-ledger-transaction",
    ),
    path(
        "coordinator/<slug:slug>/ledger/transactions/<int:transaction_id>/reverse/",
        coordinator_ledger.reverse_transaction,
        name="coordinator-ledger-reverse",
    ),
    path(
        "coordinator/<slug:slug>/ledger/corrections/new/",
        coordinator_ledger.correction,
        name="coordinator-ledger-correction",
    ),
    path(
        "coordinator/<slug:slug>/ledger/approvals/",
        coordinator_ledger.approvals,
        name="coordinator-ledger-approvals",
    ),
    path(
        "coordinator/<slug:slug>/ledger/approvals/<int:approval_id>/",
        coordinator_ledger.decide,
        name="coordinator-ledger-decide",
    ),
    path(
        "coordinator/<slug:slug>/ledger/members/<int:member_id>/",
        coordinator_ledger.statement,
        name="coordinator-ledger-statement",
    ),
    path(
        "coordinator/<slug:slug>/ledger/export/",
        coordinator_ledger.export,
        name="coordinator-ledger-export",
    ),
    path("coordinator/<slug:slug>/helpers/", coordinator_helpers.page, name="coordinator-helpers"),
    path(
        "coordinator/<slug:slug>/helpers/<int:helper_id>/",
        coordinator_helpers.record,
        name="coordinator-helper",
    ),
    path(
        "coordinator/<slug:slug>/helpers/<int:helper_id>/checks/",
        coordinator_helpers.checks,
        name="coordinator-helper-checks",
    ),
    path(
        "coordinator/<slug:slug>/helpers/<int:helper_id>/suspend/",
        coordinator_helpers.suspend,
        name="coordinator-helper-suspend",
    ),
    path(
        "coordinator/<slug:slug>/helpers/<int:helper_id>/reinstate/",
        coordinator_helpers.reinstate,
        name="coordinator-helper-reinstate",
    ),
    path(
        "coordinator/<slug:slug>/feedback/",
        coordinator_feedback.page,
        name="coordinator-feedback",
    ),
    path("coordinator/<slug:slug>/reports/", coordinator_reports.page, name="coordinator-reports"),
    path(
        "coordinator/<slug:slug>/reports/<slug:report>.csv",
        coordinator_reports.download,
        name="coordinator-reports-csv",
    ),
    path(
        "coordinator/<slug:slug>/settings/",
        coordinator_settings.page,
        name="coordinator-settings",
    ),
    path(
        "coordinator/<slug:slug>/settings/kinds-of-help/new/",
        coordinator_settings.category_new,
        name="coordinator-settings-category-new",
    ),
    path(
        "coordinator/<slug:slug>/settings/kinds-of-help/<int:category_id>/",
        coordinator_settings.category_edit,
        name="coordinator-settings-category",
    ),
    path("coordinator/<slug:slug>/staff/", coordinator_staff.page, name="coordinator-staff"),
    path(
        "coordinator/<slug:slug>/staff/<int:member_id>/two-factor/reset/",
        coordinator_staff.reset,
        name="coordinator-staff-reset",
    ),
    # Gifts from family and friends (issue 14): the member's link to share, and its page.
    path("my/pay/gift-link/", gift_link.share, name="member-gift-link"),
    path("gift/<str:token>/", gift_link.gift, name="gift-link"),
    path(
        "console/<slug:slug>/members/<int:member_id>/gift-link/",
        gift_link.console,
        name="console-gift-link",
    ),
    # Safeguarding concerns: anyone signed in raises one; the coordinators read and act.
    path("concerns/new/", concerns.new, name="concern-new"),
    path("concerns/", concerns.mine, name="concerns-mine"),
    path(
        "coordinator/<slug:slug>/concerns/", coordinator_concerns.page, name="coordinator-concerns"
    ),
    path(
        "coordinator/<slug:slug>/concerns/<int:concern_id>/",
        coordinator_concerns.detail,
        name="coordinator-concern",
    ),
    path(
        "coordinator/<slug:slug>/concerns/<int:concern_id>/note/",
        coordinator_concerns.note,
        name="coordinator-concern-note",
    ),
    path(
        "coordinator/<slug:slug>/concerns/<int:concern_id>/referral/",
        coordinator_concerns.referral,
        name="coordinator-concern-referral",
    ),
    path(
        "coordinator/<slug:slug>/concerns/<int:concern_id>/suspend/",
        coordinator_concerns.suspend,
        name="coordinator-concern-suspend",
    ),
    path(
        "coordinator/<slug:slug>/concerns/<int:concern_id>/close/",
        coordinator_concerns.close,
        name="coordinator-concern-close",
    ),
    # What Circle holds about a person (UK GDPR right of access, issue 14).
    path("my/data/", member_data.page, name="member-data"),
    path("my/data/download/", member_data.download, name="member-data-download"),
    path(
        "console/<slug:slug>/members/<int:member_id>/data/",
        console_data.console_page,
        name="console-data",
    ),
    path(
        "console/<slug:slug>/members/<int:member_id>/data/download/",
        console_data.console_download,
        name="console-data-download",
    ),
    # Erasing a member's personal data (UK GDPR right to erasure, issue 14): coordinators.
    path(
        "console/<slug:slug>/members/<int:member_id>/erase/",
        console_erase.erase,
        name="console-erase",
    ),
    # A signed card-payment link (an operator's SMS or email).
    path("pay/<str:token>/", pay_link.pay, name="pay-link"),
]
