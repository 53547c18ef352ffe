"""Factories for the rows tests need. Circles go through `circle_create` so they get the
default categories exactly as a real circle does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from circle.models import Circle
from circle.services import circle_create
from helpers.models import Helper, HelperKind, HelperSkill
from members.models import JoinedVia, Member, Role, RoleName, User

PASSWORD = "Tr1cky-Passw0rd-for-tests"


class CircleFactory(factory.django.DjangoModelFactory[Circle]):
    class Meta:
        model = Circle

    slug = factory.Sequence(lambda n: f"circle-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.slug.title()} Circle")
    postcode = "SE1 7PB"
    radius_km = Decimal("8")

    @classmethod
    def _create(cls, model_class: type[Circle], *args: Any, **kwargs: Any) -> Circle:
        return circle_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years)


class MemberFactory(factory.django.DjangoModelFactory[Member]):
    """A member with a login. Pass `roles=[...]` (default: member)."""

    class Meta:
        model = Member
        skip_postgeneration_save = True

    circle = factory.SubFactory(CircleFactory)
    user = factory.SubFactory(UserFactory)
    full_name = factory.LazyAttribute(lambda o: o.user.full_name if o.user else "Phone Caller")
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else None)
    phone = factory.Sequence(lambda n: f"+4479009{n:05d}")
    date_of_birth = factory.LazyFunction(lambda: years_ago(70))
    address_line1 = factory.Sequence(lambda n: f"{n} Borough Road")
    postcode = "SE1 2AA"
    latitude = Decimal("51.50218")
    longitude = Decimal("-0.07630")
    joined_via = JoinedVia.ONLINE

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for role in extracted if extracted is not None else [RoleName.MEMBER]:
            Role.objects.create(circle=self.circle, member=self, role=role)


class HelperFactory(factory.django.DjangoModelFactory[Helper]):
    """A helper profile; pass `skills=[slugs]` (default: gardening, odd-jobs)."""

    class Meta:
        model = Helper
        skip_postgeneration_save = True

    member = factory.SubFactory(MemberFactory, roles=[RoleName.HELPER])
    circle = factory.LazyAttribute(lambda o: o.member.circle)
    kind = HelperKind.VOLUNTEER
    postcode = factory.LazyAttribute(lambda o: o.member.postcode)
    latitude = factory.LazyAttribute(lambda o: o.member.latitude)
    longitude = factory.LazyAttribute(lambda o: o.member.longitude)
    travel_radius_km = Decimal("5")

    @factory.post_generation
    def skills(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for slug in extracted if extracted is not None else ["gardening", "odd-jobs"]:
            HelperSkill.objects.create(
                circle=self.circle, helper=self, category=self.circle.categories.get(slug=slug)
            )


def body_with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A request body with fields replaced, or left out where the change is None (the way a
    form that skipped the field sends it)."""
    changed = dict(body)
    for name, value in changes.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    return changed
