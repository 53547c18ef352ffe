"""Every error code in plain English, in one place, for the pages and the API.

Services raise `DomainError(code, detail, field=...)`. The code is the stable name clients branch
on; the detail is a sentence about this case ("This needs 120 minutes of tokens held; 60 are
available."). Most details already read well to a member, but some were written for a developer
("tokens: a whole number of tokens.", "'se1' is not a UK postcode"). `message_for` gives the words
a person should read: the sentence below where the code has one, else the service's own detail
with its "field: " prefix taken off. The API answers with the same words (`detail`), so a
developer and a member see one message, and the codes stay as they are.

Written for an older person reading carefully: say what happened and what to do next, without
blame or jargon ("token", "hold" and "circle" are words members learn on the first page).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from circle.errors import DomainError

# (code, field) first, then the code alone. Only codes whose service detail does not already
# speak plainly to a person, or says too much, are listed.
MESSAGES: dict[tuple[str, str | None], _StrPromise] = {
    ("not_authenticated", None): _("Please sign in to continue."),
    ("invalid_credentials", None): _(
        "The email address or password is not right. Check them and try again."
    ),
    ("too_many_attempts", None): _(
        "You have tried to sign in too many times. Please wait 15 minutes, or call us."
    ),
    ("email_taken", None): _(
        "That email address is already in use. If it is yours, sign in with it instead."
    ),
    ("email_invalid", None): _("Enter an email address in the right form, like name@example.com."),
    ("phone_invalid", None): _(
        "Enter a UK phone number we can call, like 020 7946 0000 or 07700 900 123."
    ),
    ("postcode_invalid", None): _("Enter a full UK postcode, like SE1 7PB."),
    ("postcode_unknown", None): _(
        "We cannot find that postcode. Check it, or call us and we will help."
    ),
    ("postcode_outside_area", None): _(
        "That postcode is outside the area this circle covers. Call us and we will help you "
        "find a circle nearer to you."
    ),
    ("payments_not_configured", None): _(
        "Paying by card is not working just now. Please try again later, or call us."
    ),
    ("payments_unavailable", None): _(
        "Paying by card is not working just now. Please try again later, or call us."
    ),
    ("concern_open", None): _(
        "This closes when the concern itself is closed, with its outcome, on the concern's page."
    ),
    ("payments_failed", None): _(
        "Paying by card did not start, and nothing was taken. Please try again in a few "
        "minutes, or call us."
    ),
    ("database_unavailable", None): _(
        "Circle is not working for a moment. Nothing was half saved: please try again in a "
        "minute, or call us."
    ),
    ("date_of_birth_invalid", None): _("Enter a real date of birth, like 27 3 1948."),
    ("password_too_weak", None): _(
        "Choose a password of at least 8 characters that is not easy to guess, and not only "
        "numbers or spaces."
    ),
    ("required", "email"): _("Enter your email address."),
    ("required", "password"): _("Choose a password."),
    ("required", "phone"): _("Enter a phone number."),
    ("required", "postcode"): _("Enter a postcode."),
    ("required", "reason"): _("Say why."),
    ("required", "call_reference"): _("Enter the call reference."),
    ("blank", "full_name"): _("Enter your full name."),
    ("blank", "address_line1"): _("Enter the first line of your address."),
    ("window_in_past", None): _("That time has already passed. Choose a time from now on."),
    ("window_invalid", None): _("The time it ends must be after the time it starts."),
    ("estimate_exceeds_window", None): _(
        "The time you think it will take is longer than the time you have chosen. Choose a "
        "longer time, or a shorter job."
    ),
    ("unknown_category", None): _("Choose one of the kinds of help listed."),
    ("membership_inactive", None): _(
        "Your membership needs to be paid before you can ask for help. You can pay on the "
        "payments page, or call us."
    ),
    ("no_home_location", None): _(
        "We do not have your home postcode, so we cannot send a helper. Please add it to your "
        "details."
    ),
    ("insufficient_tokens", None): _(
        "There are not enough tokens for this now. Buy more tokens, or choose a shorter time."
    ),
    ("task_taken", None): _("Someone else has just taken this."),
    ("helper_paused", None): _(
        "You have paused, so you are not taking tasks for now. To take this one, resume on your "
        "profile page first."
    ),
    ("already_helper", None): _("You are already a helper in this circle."),
    ("task_cancelled", None): _("This request was cancelled."),
    ("task_expired", None): _("The time for this request has passed without a helper."),
    ("task_settled", None): _("This request is finished and paid for."),
    ("task_not_completed", None): _(
        "The helper has not said the job is done yet. If it is done, please call us."
    ),
    ("task_completed", None): _(
        "The helper has said the job is done, so it cannot be cancelled now. Confirm it, or call "
        "us if something is wrong."
    ),
    ("subscription_exists", None): _(
        "Your membership already renews by card each year. There is nothing more to pay."
    ),
    ("no_fee", None): _("This circle does not charge a membership fee."),
    ("no_price", None): _("This circle does not sell tokens."),
    ("forbidden", None): _("You cannot do that here."),
    ("own_record", None): _(
        "Staff cannot do this for their own member record. Ask another member of staff."
    ),
    ("staff_recipient", None): _(
        "Staff cannot move a member's tokens to a member of staff. Choose someone else."
    ),
    ("approval_own_request", None): _(
        "You asked for this, so another coordinator must approve or refuse it."
    ),
    ("approval_decided", None): _("Another coordinator has already decided this."),
    ("approval_refused", None): _(
        "Another coordinator refused this, so nothing was moved. Ask again if it is still needed."
    ),
    ("approval_not_found", None): _("We cannot find that approval."),
    ("already_done", None): _(
        "This follow-up has already been closed, so there is nothing more to do on it."
    ),
    ("not_found", None): _("We cannot find that."),
    ("busy", None): _("Something changed while we were saving. Please try again."),
    ("server_error", None): _("Something went wrong on our side. Please try again, or call us."),
    # Inputs no client means to send, answered cleanly (the API's error format, never a 500).
    ("json_too_deep", None): _(
        "The request body nests its lists and objects too deeply. No request to Circle needs "
        "more than 32 levels."
    ),
    ("body_too_large", None): _("The request is too large. Send less at once."),
    ("bad_request", None): _("The request could not be read. Check it and try again."),
    ("csrf_failed", None): _(
        "This form had expired or was sent from somewhere else. Go back, reload the page and try "
        "again; programs signed in with a session send the X-CSRFToken header."
    ),
    ("date_out_of_range", None): _("Choose a date between the years 1900 and 9998."),
    ("email_has_login", None): _(
        "There is already a Circle login with this email address. Sign in with it first, then "
        "you can join this circle too."
    ),
    # A circle's settings, as its coordinators change them (circle.services). The service's
    # own sentence names the setting and its limits; these say what to do instead.
    ("setting_negative", "membership_fee"): _(
        "The membership fee cannot be less than £0.00. Enter 0 for a circle with no fee."
    ),
    ("setting_negative", "token_price"): _(
        "The token price cannot be less than £0.00. Enter 0 if tokens are free."
    ),
    ("setting_too_small", "billing_increment_minutes"): _(
        "The billing increment must be at least 1 minute. Tasks are billed in steps of it."
    ),
    ("setting_too_small", "offer_wave_minutes"): _(
        "The wait between offers must be at least 1 minute."
    ),
    ("setting_too_small", "no_helper_warning_hours"): _(
        "The warning time must be at least 1 hour before a task's window."
    ),
    ("setting_invalid", None): _("Enter a number."),
    ("category_name_blank", None): _("Enter a name for the kind of help."),
    ("category_name_too_long", None): _("The name can be at most 80 characters long."),
    ("category_name_invalid", None): _("Use some letters or digits in the name."),
    ("category_exists", None): _(
        "There is already a kind of help with that name. Choose another name, or change that one."
    ),
    ("vetting_level_invalid", None): _("Choose none, basic or enhanced."),
}

# The same refusals as an operator or coordinator hears them on the console, registering or
# changing a caller's details: about the caller, not "you", and never "call us".
STAFF_MESSAGES: dict[tuple[str, str | None], _StrPromise] = {
    ("blank", "full_name"): _("Enter the caller's full name."),
    ("blank", "address_line1"): _("Enter the caller's house number and street."),
    ("postcode_unknown", None): _("We cannot find that postcode. Check it with the caller."),
    ("postcode_outside_area", None): _(
        "That postcode is outside the area this circle covers, so they cannot join it. Tell "
        "the caller, and suggest a circle nearer to them if there is one."
    ),
    ("email_taken", None): _(
        "Someone else already uses that email address. Check it with the caller, or leave it empty."
    ),
    ("date_of_birth_invalid", None): _("Enter a real date of birth, like 27 3 1948."),
}

_FIELD_PREFIX = re.compile(r"^[a-z_]+: ")


def message_for_code(code: str, field: str | None = None, default: str = "") -> str:
    """The sentence for a code raised outside a DomainError (a parser's, a middleware's)."""
    for key in ((code, field), (code, None)):
        if key in MESSAGES:
            return str(MESSAGES[key])
    return default


def message_for(error: DomainError) -> str:
    """The sentence a person reads for this error."""
    for key in ((error.code, error.field), (error.code, None)):
        if key in MESSAGES:
            return str(MESSAGES[key])
    return _FIELD_PREFIX.sub("", str(error.detail), count=1)


def message_for_staff(error: DomainError) -> str:
    """The sentence staff read for this error on the console: STAFF_MESSAGES' where it has
    one, else `message_for`'s."""
    for key in ((error.code, error.field), (error.code, None)):
        if key in STAFF_MESSAGES:
            return str(STAFF_MESSAGES[key])
    return message_for(error)
