"""A demo circle with named people of every role, made through the same services the API uses
(so the audit log reads as it would in life). Safe to run twice: what exists is left alone.

It lives in `web`, the top floor, since it touches every app (STYLE.md's import order), and it
says, for each demo person, the page they begin at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from attention.models import Concern, ItemKind
from attention.services import concern_raise, item_claim, item_note_add, item_raise
from circle.models import Circle
from circle.services import circle_create
from helpers.models import DbsLevel, Helper, HelperKind
from helpers.services import Availability, helper_signup, helper_vetting_record
from matching.models import Task
from matching.rules import local_zone
from matching.services import task_accept, task_book, task_complete, task_confirm
from members.models import AuditEvent, Member, TrustedPerson, User
from members.selectors import Caller, caller_for
from members.services import member_join, staff_grant
from members.trusted_persons import trusted_person_add
from payments.models import Payment, PaymentMethod
from payments.services import offline_payment_record
from payments.services.links import pay_link_token, pay_link_url
from tokens.models import AuditRun
from tokens.services import audit_run_create, transfer_create

DEMO_SLUG = "southwark-demo"


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    role: str
    postcode: str
    note: str
    # A mobile number, for someone a text can reach (the others get a London landline).
    mobile: str = ""

    @property
    def start_page(self) -> str:
        """Where this person lands after signing in (web.views.base.landing_for): coordinators
        at their desk, operators at the console, members at home, helpers at their feed."""
        if self.role == "coordinator":
            return f"/coordinator/{DEMO_SLUG}/"
        if self.role == "operator":
            return f"/console/{DEMO_SLUG}/"
        if self.role in {"member", "member+helper"}:
            return "/my/"
        return "/helper/"


PEOPLE = (
    Person(
        "Grace Okafor",
        "grace@demo.circle.test",
        "coordinator",
        "SE1 7PB",
        "coordinator: the desk (what needs attention, the ledger, vetting, reports, settings)",
    ),
    Person(
        "Omar Hussain",
        "omar@demo.circle.test",
        "operator",
        "SE1 7PB",
        "operator: finds callers, registers them, books and takes payments; follow-ups",
    ),
    Person(
        "Margaret Bell",
        "margaret@demo.circle.test",
        "member",
        "SE1 2AA",
        "member who joined online; paid in cash, has 5 tokens",
    ),
    Person(
        "Arthur Lewis",
        None,
        "member",
        "SE17 1AA",
        "joined by phone, no login (Omar finds him by 'Lewis' or 'SE17'); paid by cheque",
    ),
    Person(
        "Doris Pike",
        None,
        "member",
        "SE1 2AA",
        "joined by phone with a mobile, no login yet: her card offers 'Send a link to set a "
        "password' by text (the text shows where scripts/demo prints messages)",
        mobile="07900 900123",
    ),
    Person(
        "Priya Shah",
        "priya@demo.circle.test",
        "volunteer",
        "SE5 8AB",
        "volunteer helper, basic vetting: gardening, odd jobs, IT help; tasks in her feed",
    ),
    Person(
        "Tom Walker",
        "tom@demo.circle.test",
        "paid",
        "SE15 4AA",
        "paid helper, enhanced vetting: shopping, lifts, DIY",
    ),
    Person(
        "Jean Clarke",
        "jean@demo.circle.test",
        "member+helper",
        "SE11 4AA",
        "member who also helps (not yet vetted); gave 30 minutes to the pot",
    ),
)


# A trusted person: a login and no member record (DESIGN.md), named by Margaret.
TRUSTED_DAUGHTER = Person(
    "Susan Bell",
    "susan@demo.circle.test",
    "trusted",
    "",
    "Margaret's daughter, her trusted person: asks for help, confirms jobs, reads her "
    "statement (not her details)",
)


def _born(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


class Command(BaseCommand):
    help = "Create (or top up) a demo circle with people of every role, and print their logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "circle-demo-2026"),
            help="password for every demo login (default: circle-demo-2026, or $DEMO_PASSWORD)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"]
        # No transaction around the whole: each service commits its own work (ledger and
        # payment services insist on it), and a second run tops up whatever a first run missed.
        circle = Circle.objects.filter(slug=DEMO_SLUG).first() or circle_create(
            slug=DEMO_SLUG,
            name="Southwark Demo Circle",
            postcode="SE1 7PB",
            radius_km=Decimal("8"),
            phone="020 7946 0000",
        )
        grace = self._staff(circle, PEOPLE[0], password)
        self._staff(circle, PEOPLE[1], password)
        omar_user = User.objects.get(email=PEOPLE[1].email)
        for phone_suffix, person in enumerate(PEOPLE[2:], start=10):
            phone = person.mobile or f"020 7946 00{phone_suffix:02d}"
            self._person(circle, person, password, phone, omar_user)
        self._vet(circle, grace, "priya@demo.circle.test", DbsLevel.BASIC)
        self._vet(circle, grace, "tom@demo.circle.test", DbsLevel.ENHANCED)
        # Money in, as an operator takes it on the phone: a year's membership and tokens.
        payments = [
            ("Margaret Bell", PaymentMethod.CASH, "DEMO-R1", 5),
            ("Arthur Lewis", PaymentMethod.CHEQUE, "DEMO-CHQ-100231", 3),
            ("Jean Clarke", PaymentMethod.BANK_TRANSFER, "DEMO-BT-77", 2),
        ]
        for name, method, reference, tokens in payments:
            self._pay(circle, omar_user, name, method, reference, tokens)
        jean = Member.objects.get(circle=circle, full_name="Jean Clarke")
        transfer_create(
            source=jean,
            destination=None,
            minutes=30,
            memo="For someone who needs it",
            actor=jean.user,
            idempotency_key="demo-jean-gift",
        )
        self._tasks(circle, omar_user)
        self._trusted(circle, password)
        self._follow_ups(circle, omar_user)
        self._history(circle, omar_user)
        self._desk_items(circle, grace)
        # The ledger page shows the last check's verdict: the demo's books checked once.
        if not AuditRun.objects.filter(circle=circle).exists():
            audit_run_create(circle=circle)

        # Where scripts/demo serves it.
        site = os.environ.get("DEMO_URL", "http://127.0.0.1:8000")
        self.stdout.write(self.style.SUCCESS(f"\nDemo circle '{circle.name}' ({circle.slug})"))
        self.stdout.write(f"Start page: {site}/   Sign in: {site}/sign-in/\n")
        self.stdout.write("Each person, their login and the page they begin at:\n")
        for person in PEOPLE:
            login = f"{person.email} / {password}" if person.email else "(no login: by phone)"
            begin = f"{site}{person.start_page}" if person.email else "through the operator"
            self.stdout.write(f"  {person.name:<15} {login:<45} {begin}")
            self.stdout.write(f"  {'':<15} {person.note}")
        daughter = TRUSTED_DAUGHTER
        self.stdout.write(
            f"  {daughter.name:<15} {f'{daughter.email} / {password}':<45} {site}/trusted/"
        )
        self.stdout.write(f"  {'':<15} {daughter.note}")
        if settings.STAFF_TWO_FACTOR == "required":
            self.stdout.write(
                "\nStaff two-factor is required here (STAFF_TWO_FACTOR=required): Grace and "
                "Omar set up an authenticator app at their first sign-in, then give its code."
            )
        else:
            self.stdout.write(
                "\nStaff two-factor is optional on this laptop (STAFF_TWO_FACTOR=optional): "
                "Grace and Omar sign in with the password alone, and can turn it on at "
                f"{site}/account/two-factor/. Production requires it."
            )
        self.stdout.write(
            "\nMargaret pays by card at /my/pay/: without STRIPE_SECRET_KEY, scripts/demo serves "
            "a local stand-in for Stripe whose page pays without a card."
        )
        arthur = Member.objects.get(circle=circle, full_name="Arthur Lewis")
        link = pay_link_url(pay_link_token(member=arthur, purpose="tokens", tokens=2))
        self.stdout.write(
            f"A card payment link for Arthur's next 2 tokens, as Omar would text it: {link}"
        )
        self.stdout.write(
            f"\nFor developers: API docs at {site}/api/v1/docs/; a token from "
            "POST /api/v1/auth/token/ with the same logins.\n"
        )

    def _tasks(self, circle: Circle, operator: User) -> None:
        """Tasks in three states: open (in Priya's feed), accepted by Priya, and those Tom and
        Priya did for Arthur, confirmed with feedback. A task already there (by member and title) is
        kept, and each step repeats as a no-op, so a second run changes nothing."""
        margaret = Member.objects.get(circle=circle, full_name="Margaret Bell")
        arthur = Member.objects.get(circle=circle, full_name="Arthur Lewis")
        priya = Helper.objects.select_related("member").get(member__email="priya@demo.circle.test")
        tom = Helper.objects.select_related("member").get(member__email="tom@demo.circle.test")
        own = caller_for(user=margaret.user, circle=circle)
        staff = caller_for(user=operator, circle=circle)

        def demo_task(
            member: Member,
            caller: Caller,
            title: str,
            days: int,
            hours: tuple[int, int],
            **rest: Any,
        ) -> Task:
            found = Task.objects.filter(member=member, title=title).first()
            if found is not None:
                return found
            start, end = _window(_next_weekday(days), *hours)
            return task_book(
                member=member,
                caller=caller,
                title=title,
                window_start=start,
                window_end=end,
                **rest,
            ).task

        demo_task(
            margaret,
            own,
            "Trim the front hedge",
            3,
            (10, 12),
            category="gardening",
            details="About 5 metres; clippers in the shed.",
            estimated_minutes=90,
        )
        tablet = demo_task(
            margaret,
            own,
            "Set up my new tablet",
            2,
            (14, 16),
            category="it-help",
            details="Email and video calls with my grandson.",
            estimated_minutes=60,
        )
        task_accept(
            task=tablet, helper=priya, caller=caller_for(user=priya.member.user, circle=circle)
        )
        shelf = demo_task(
            arthur,
            staff,
            "Put up a shelf",
            1,
            (9, 12),
            category="diy",
            estimated_minutes=60,
            call_reference="DEMO-CALL-2",
        )
        tom_caller = caller_for(user=tom.member.user, circle=circle)
        task_accept(task=shelf, helper=tom, caller=tom_caller)
        task_complete(task=shelf, helper=tom, caller=tom_caller, minutes=45)
        task_confirm(task=shelf, caller=staff, rating=5, comment="Arthur is delighted.")
        # Priya's own pages: another task in her feed, and one she did, confirmed, so "Mine"
        # shows what she has earned.
        demo_task(
            margaret,
            own,
            "Help me with email on my phone",
            5,
            (10, 12),
            category="it-help",
            details="I keep losing my emails.",
            estimated_minutes=60,
        )
        tap = demo_task(
            arthur,
            staff,
            "Fix a dripping tap",
            4,
            (13, 16),
            category="odd-jobs",
            details="Kitchen tap; he has a spare washer.",
            estimated_minutes=60,
            call_reference="DEMO-CALL-3",
        )
        priya_caller = caller_for(user=priya.member.user, circle=circle)
        task_accept(task=tap, helper=priya, caller=priya_caller)
        task_complete(task=tap, helper=priya, caller=priya_caller, minutes=40)
        task_confirm(task=tap, caller=staff, rating=5, comment="Quick and tidy.")

    def _history(self, circle: Circle, operator: User) -> None:
        """A year of the circle's past, for the coordinators' reports: a member joining each
        month by phone (all but one paying for a year and buying tokens), their requests for
        help taken by Priya (a volunteer, who earns) or Tom (paid), accepted after a wait and
        confirmed, a gift to the pot, and one member who became a helper in the summer.

        Through the real services, each run at its moment in the past: the task services take
        `now`; the rest read the clock (`timezone.now`), which is set back for each step, and
        the audit rows they wrote (stamped by the model's own default) are backdated after it.
        On PostgreSQL the ledger stamps its rows with the database's clock and refuses updates,
        so there the tokens' history all falls in this month (SQLite, the laptop default,
        shows the year). Done once: the first history member's presence says it was."""
        names = (
            "Edith Turner", "Stanley Price", "Doris Reid", "Harold Green", "Joan Mills",
            "Walter Hughes", "Irene Fox", "Leonard Ward", "Mavis Cole", "Ernest Bird",
            "Phyllis Knight", "Cyril Dunn",
        )  # fmt: skip
        if Member.objects.filter(circle=circle, full_name=names[0]).exists():
            return
        staff = caller_for(user=operator, circle=circle)
        priya = Helper.objects.select_related("member").get(member__email="priya@demo.circle.test")
        tom = Helper.objects.select_related("member").get(member__email="tom@demo.circle.test")
        clock = _Clock(circle)
        postcodes = ("SE1 2AA", "SE11 4AA", "SE5 8AB", "SE15 4AA")
        # (title, category, helper, estimate, minutes done): titles the demo's own tasks use.
        jobs = (
            ("Trim the front hedge", "gardening", priya, 120, 100),
            ("Put up a shelf", "diy", tom, 60, 60),
            ("Help me with email on my phone", "it-help", priya, 60, 45),
            ("Fix a dripping tap", "odd-jobs", priya, 60, 30),
        )
        waits = (1, 3, 6, 20, 2, 30, 4)  # hours from asking to a helper accepting
        this_month = timezone.localdate().replace(day=1)
        now = timezone.now()
        for i, name in enumerate(names):
            year, month_index = divmod(this_month.year * 12 + this_month.month - 1 - 11 + i, 12)
            month = date(year, month_index + 1, 3)
            joined = min(
                datetime.combine(month, time(10), tzinfo=local_zone()), now - timedelta(hours=2)
            )
            with clock.at(joined):
                member = member_join(
                    circle=circle,
                    caller=staff,
                    full_name=name,
                    phone=f"020 7946 01{i:02d}",
                    date_of_birth=_born(70 + i),
                    address_line1=f"{i + 1} Walworth Road",
                    postcode=postcodes[i % 4],
                    email="edith@demo.circle.test" if i == 0 else None,
                    password="circle-demo-2026" if i == 0 else None,
                    call_reference=f"DEMO-H{i}",
                )
                if i == 11:
                    continue  # joined this month, not paid yet: pending
                for purpose, tokens in (("membership", None), ("tokens", 6)):
                    offline_payment_record(
                        member=member,
                        caller=staff,
                        purpose=purpose,
                        method=PaymentMethod.CASH,
                        reference=f"DEMO-H{i}-{purpose[0].upper()}",
                        tokens=tokens,
                    )
            member.refresh_from_db()
            for j in range(1 + i % 2):
                asked = joined + timedelta(days=4 + 9 * j, hours=j)
                if asked > now - timedelta(days=5):
                    break
                title, category, helper, estimate, done = jobs[(i + j) % 4]
                start, end = _window(_next_weekday_after(asked.date() + timedelta(days=3)), 10, 13)
                with clock.at(asked):
                    task = task_book(
                        member=member,
                        caller=staff,
                        category=category,
                        title=title,
                        window_start=start,
                        window_end=end,
                        estimated_minutes=estimate,
                        call_reference=f"DEMO-H{i}-{j}",
                        now=asked,
                    ).task
                helper_caller = caller_for(user=helper.member.user, circle=circle)
                accepted = asked + timedelta(hours=waits[(i + 2 * j) % 7])
                with clock.at(accepted):
                    task_accept(task=task, helper=helper, caller=helper_caller, now=accepted)
                with clock.at(end):
                    task_complete(
                        task=task, helper=helper, caller=helper_caller, minutes=done, now=end
                    )
                with clock.at(end + timedelta(hours=2)):
                    task_confirm(
                        task=task,
                        caller=staff,
                        call_reference=f"DEMO-H{i}-{j}-OK",
                        now=end + timedelta(hours=2),
                    )
            if i == 3:
                with clock.at(joined + timedelta(days=40)):
                    transfer_create(
                        source=member,
                        destination=None,
                        minutes=30,
                        memo="For someone who needs it",
                        actor=staff.user,
                        reason="She asked us to, on the phone",
                        idempotency_key="demo-history-gift",
                    )
        # Edith, who joined first, began helping in the summer.
        edith = Member.objects.get(circle=circle, full_name=names[0])
        year, month_index = divmod(this_month.year * 12 + this_month.month - 1 - 5, 12)
        became = datetime.combine(date(year, month_index + 1, 12), time(11), tzinfo=local_zone())
        with clock.at(became):
            assert edith.user is not None
            helper_signup(
                circle=circle,
                caller=caller_for(user=edith.user, circle=circle),
                kind=HelperKind.VOLUNTEER,
                skills=["companionship", "paperwork"],
                travel_radius_km=Decimal("2"),
                availability=[Availability(2, time(10), time(15))],
            )
        clock.backdate()

    def _trusted(self, circle: Circle, password: str) -> None:
        """Margaret names her daughter Susan as her trusted person, as she would on
        /my/trusted-persons/; Susan's new login is given the demo password."""
        margaret = Member.objects.get(circle=circle, full_name="Margaret Bell")
        person = TRUSTED_DAUGHTER
        assert person.email is not None
        if TrustedPerson.objects.filter(
            member=margaret, user__email=person.email, ended_at__isnull=True
        ).exists():
            return
        link = trusted_person_add(
            caller=caller_for(user=margaret.user, circle=circle),
            member=margaret,
            full_name=person.name,
            email=person.email,
            scopes=["ask", "confirm", "statement"],
        )
        if not link.user.has_usable_password():
            link.user.set_password(password)
            link.user.save(update_fields=["password"])

    def _follow_ups(self, circle: Circle, operator: User) -> None:
        """The operators' follow-ups: Arthur, who has no email, is due a call about renewing
        (as the renewal job raises it a month before; here it is raised now, so the demo shows
        one), claimed by Omar with a note; and a text to Margaret that did not arrive. Each is
        raised once per cause, so a second run adds none."""
        arthur = Member.objects.get(circle=circle, full_name="Arthur Lewis")
        margaret = Member.objects.get(circle=circle, full_name="Margaret Bell")
        with transaction.atomic():
            renewal = item_raise(
                member=arthur,
                kind=ItemKind.RENEWAL_REMINDER,
                cause="demo:renewal:arthur",
                note="His year ends soon and he has no email: ring to ask how he will pay.",
            )
            item_raise(
                member=margaret,
                kind=ItemKind.SMS_UNDELIVERED,
                cause="demo:sms:margaret",
                note="The text about her hedge-trimming request could not be delivered.",
            )
        if renewal is not None:
            omar = caller_for(user=operator, circle=circle)
            item_claim(item=renewal, caller=omar)
            item_note_add(item=renewal, caller=omar, text="Rang at 11, no answer. Try after lunch.")

    def _desk_items(self, circle: Circle, coordinator: Member) -> None:
        """Grace's queue at her desk, one of each of several coordinators' kinds (as the jobs
        and services raise them; here raised now, so the demo shows them): a safeguarding
        concern about Margaret that Tom raised (first, whatever its age), Margaret's hedge
        with nobody to do it yet, Tom's DBS renewal and a low rating of Priya, which Grace has
        taken with a note. Each is raised once per cause, so a second run adds none."""
        margaret = Member.objects.get(circle=circle, full_name="Margaret Bell")
        hedge = Task.objects.get(member=margaret, title="Trim the front hedge")
        tom = Member.objects.get(circle=circle, full_name="Tom Walker")
        priya = Member.objects.get(circle=circle, full_name="Priya Shah")
        if not Concern.objects.filter(circle=circle, about_member=margaret).exists():
            # A real concern, as Tom would raise it on /concerns/new/: its queue item says only
            # that a concern was raised, and it closes only with the concern.
            concern_raise(
                circle=circle,
                caller=caller_for(user=tom.user, circle=circle),
                about_member_id=margaret.pk,
                what_happened=(
                    "Margaret seemed confused when I called and said she had not eaten since "
                    "yesterday. The kitchen was bare."
                ),
                happened_on=timezone.localdate(),
                danger_now=False,
            )
        with transaction.atomic():
            item_raise(
                member=margaret,
                kind=ItemKind.TASK_NO_HELPER,
                cause=f"task:{hedge.pk}",
                task_id=hedge.pk,
                note="Nobody has taken “Trim the front hedge” yet. Find a helper, or ring her.",
            )
            item_raise(
                member=tom,
                kind=ItemKind.CHECKS_DUE,
                cause="demo:checks:tom",
                note="Tom's DBS certificate is more than 3 years old. Ask him for a new one.",
            )
            rating = item_raise(
                member=priya,
                kind=ItemKind.LOW_RATING,
                cause="demo:rating:priya",
                note="A member rated Priya's help 2 out of 5: “Came an hour late.”",
            )
        if rating is not None:
            own = caller_for(user=coordinator.user, circle=circle)
            item_claim(item=rating, caller=own)
            item_note_add(item=rating, caller=own, text="Left Priya a message to talk it over.")

    def _staff(self, circle: Circle, person: Person, password: str) -> Member:
        assert person.email is not None
        exists = User.objects.filter(email=person.email).exists()
        return staff_grant(
            circle=circle,
            email=person.email,
            role=person.role,
            password=None if exists else password,
            full_name=person.name,
        )

    def _person(
        self, circle: Circle, person: Person, password: str, phone: str, operator: User
    ) -> None:
        if person.email is None:
            if Member.objects.filter(circle=circle, full_name=person.name).exists():
                return
            member_join(
                circle=circle,
                caller=caller_for(user=operator, circle=circle),
                full_name=person.name,
                phone=phone,
                date_of_birth=_born(81),
                address_line1="4 Penton Place",
                postcode=person.postcode,
                call_reference="DEMO-CALL-1",
            )
            return
        if User.objects.filter(email=person.email).exists():
            return
        anonymous = caller_for(user=None, circle=circle)
        if person.role in ("member", "member+helper"):
            member = member_join(
                circle=circle,
                caller=anonymous,
                full_name=person.name,
                email=person.email,
                password=password,
                phone=phone,
                date_of_birth=_born(74),
                address_line1="12 Kennington Lane",
                postcode=person.postcode,
            )
            if person.role == "member+helper":
                assert member.user is not None
                helper_signup(
                    circle=circle,
                    caller=caller_for(user=member.user, circle=circle),
                    kind=HelperKind.VOLUNTEER,
                    skills=["companionship"],
                    travel_radius_km=Decimal("2"),
                    availability=[
                        Availability(1, time(10), time(16)),
                        Availability(3, time(10), time(16)),
                    ],
                )
            return
        helper_signup(
            circle=circle,
            caller=anonymous,
            full_name=person.name,
            email=person.email,
            password=password,
            phone=phone,
            postcode=person.postcode,
            kind=HelperKind.VOLUNTEER if person.role == "volunteer" else HelperKind.PAID,
            skills=(
                ["gardening", "odd-jobs", "it-help"]
                if person.role == "volunteer"
                else ["shopping", "lifts", "diy"]
            ),
            travel_radius_km=Decimal("5"),
            availability=[Availability(day, time(9), time(17)) for day in range(5)],
        )

    def _pay(
        self, circle: Circle, operator: User, name: str, method: str, reference: str, tokens: int
    ) -> None:
        member = Member.objects.get(circle=circle, full_name=name)
        caller = caller_for(user=operator, circle=circle)
        for purpose, suffix, count in (("membership", "M", None), ("tokens", "T", tokens)):
            if Payment.objects.filter(circle=circle, reference=f"{reference}-{suffix}").exists():
                continue
            offline_payment_record(
                member=member,
                caller=caller,
                purpose=purpose,
                method=method,
                reference=f"{reference}-{suffix}",
                tokens=count,
            )

    def _vet(self, circle: Circle, coordinator: Member, email: str, level: str) -> None:
        helper = Helper.objects.get(circle=circle, member__user__email=email)
        if helper.vetting_level == level:
            return
        helper_vetting_record(
            helper=helper,
            caller=caller_for(user=coordinator.user, circle=circle),
            identity_checked=True,
            references_checked=True,
            dbs_level=level,
            dbs_certificate_number="001234567890",
            dbs_issue_date=date(2025, 3, 1),
            original_seen_by=coordinator.full_name,
        )


class _Clock:
    """The services' clock set to a moment of the demo's past, one step at a time; the audit
    rows each step wrote (their default is bound to the real clock) are dated then too, all in
    one transaction at the end (`backdate`), as each commit costs a disk write."""

    def __init__(self, circle: Circle) -> None:
        self.circle = circle
        self.steps: list[tuple[int, int, datetime]] = []

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        before = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
        with mock.patch.object(timezone, "now", return_value=when):
            yield
        after = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
        self.steps.append((before, after, when))

    def backdate(self) -> None:
        with transaction.atomic():
            for before, after, when in self.steps:
                AuditEvent.objects.filter(circle=self.circle, id__gt=before, id__lte=after).update(
                    created_at=when
                )


def _next_weekday_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _next_weekday(days_ahead: int) -> date:
    """A weekday at least `days_ahead` days from today, when the demo helpers are available."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _window(day: date, start: int, end: int) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(start), tzinfo=local_zone()),
        datetime.combine(day, time(end), tzinfo=local_zone()),
    )
