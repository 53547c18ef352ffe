"""The console's Find page, /console/{slug}/: staff find a caller by name, phone in any spacing,
postcode, district or sector; the results as a whole page (no JavaScript) and as the fragment
the search-as-you-type script asks for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Member, MembershipStatus
from members.selectors import caller_for
from payments.services.offline import offline_payment_record
from tests.conftest import Personas
from tests.factories import MemberFactory, years_ago
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

FIND = "/console/southwark/"


@pytest.fixture
def otto(client: Client, personas: Personas) -> Client:
    client.force_login(personas.otto.user)
    return client


@pytest.fixture
def callers(personas: Personas) -> dict[str, Member]:
    """Southwark callers around the ones searched for: SE1 must not find SE10 or SE12, and
    sector SE1 7 must not find district SE17."""
    made = {
        "mary": MemberFactory(
            circle=personas.southwark,
            user=None,
            full_name="Mary Ann Smith",
            phone="+447700900123",
            postcode="SE1 7PB",
            date_of_birth=years_ago(81),
        ),
        "greenwich": MemberFactory(
            circle=personas.southwark, full_name="Gwen Greenwich", postcode="SE10 9AA"
        ),
        "walworth": MemberFactory(
            circle=personas.southwark, full_name="Wes Walworth", postcode="SE17 1AA"
        ),
        "lee": MemberFactory(
            circle=personas.southwark, full_name="Lee Leeming", postcode="SE12 8AA"
        ),
    }
    return made


def find(client: Client, q: str, *, slug: str = "southwark", part: bool = False) -> Any:
    query = {"q": q, **({"part": "results"} if part else {})}
    return client.get(f"/console/{slug}/", query)


def names(response: Any) -> list[str]:
    """The callers listed, in order: the names the results link to their cards."""
    assert response.status_code == 200
    found = re.findall(
        r'<a class="govuk-link govuk-!-font-weight-bold" '
        r'href="/console/[^/]+/members/\d+/">([^<]+)</a>',
        response.content.decode(),
    )
    return found


# --- Who may use it ---------------------------------------------------------------------------


def test_the_signed_out_are_sent_to_sign_in(client: Client, personas: Personas) -> None:
    response = client.get(FIND)
    assert response.status_code == 302
    assert response.url.startswith("/sign-in/?next=")


@pytest.mark.parametrize("who", ["alice", "hana"])
def test_members_and_helpers_are_told_the_page_is_not_for_them(
    client: Client, personas: Personas, who: str
) -> None:
    client.force_login(getattr(personas, who).user)
    for part in (False, True):
        response = find(client, "alice", part=part)
        assert response.status_code == 403
        assert "Alice Archer" not in response.content.decode()
        assert "You cannot see this page" in text_of(response)


def test_another_circles_console_is_page_not_found(client: Client, personas: Personas) -> None:
    client.force_login(personas.clara.user)
    for part in (False, True):
        response = find(client, "alice", part=part)
        assert response.status_code == 404
        assert "Alice" not in response.content.decode()
    assert find(client, "", slug="atlantis").status_code == 404


@pytest.mark.parametrize("who", ["otto", "cora"])
def test_operators_and_coordinators_find_callers(
    client: Client, personas: Personas, who: str
) -> None:
    client.force_login(getattr(personas, who).user)
    assert names(find(client, "bob")) == ["Bob Baker"]


def test_another_circles_members_are_never_found(client: Client, personas: Personas) -> None:
    client.force_login(personas.cora.user)
    for q in ("sam", "Smith", "IP4", "IP4 1AA", "ip41aa", "IP4 1", "a"):
        assert "Sam Smith" not in names(find(client, q)), q
    client.force_login(personas.clara.user)
    for q in ("alice", "07700 900001", "SE1", "se12aa", "SE1 2", "a"):
        assert "Alice Archer" not in names(find(client, q, slug="suffolk")), q


# --- The page on arrival ----------------------------------------------------------------------


def test_the_box_has_the_focus_on_arrival_and_nothing_is_listed(otto: Client) -> None:
    response = otto.get(FIND)
    page = response.content.decode()

    assert response.status_code == 200
    box = re.search(r"<input[^>]*name=\"q\"[^>]*>", page)
    assert box is not None
    assert " autofocus" in box[0]
    assert 'autocomplete="off"' in box[0]
    assert "Find a caller" in text_of(response)
    assert "Their name, phone number or postcode." in text_of(response)
    assert names(response) == []
    assert 'role="status"' in page
    assert "/static/web/console-search.js" in page
    assert "<script>" not in page  # CSP: scripts only as files (and GOV.UK's one with the nonce)


# --- Each kind of search ----------------------------------------------------------------------


@pytest.mark.parametrize("q", ["mary", "MARY SMITH", "smith mary", "ann", "  mary  "])
def test_by_name(otto: Client, callers: dict[str, Member], q: str) -> None:
    assert names(find(otto, q)) == ["Mary Ann Smith"]


@pytest.mark.parametrize(
    "q", ["07700 900 123", "07700900123", "+44 7700 900123", "+447700900123", "(07700) 900-123"]
)
def test_by_phone_in_any_spacing(otto: Client, callers: dict[str, Member], q: str) -> None:
    assert names(find(otto, q)) == ["Mary Ann Smith"]


@pytest.mark.parametrize("q", ["SE1 7PB", "se17pb", "se1 7pb", " SE1  7PB "])
def test_by_postcode_with_or_without_space(
    otto: Client, callers: dict[str, Member], q: str
) -> None:
    assert names(find(otto, q)) == ["Mary Ann Smith"]


@pytest.mark.parametrize("q", ["SE1 7P", "se17p"])
def test_by_a_postcode_typed_part_way(otto: Client, callers: dict[str, Member], q: str) -> None:
    assert names(find(otto, q)) == ["Mary Ann Smith"]


def test_by_district_leaves_out_longer_districts(otto: Client, callers: dict[str, Member]) -> None:
    # Alice, Cora and Otto live at SE1 2AA, Mary at SE1 7PB; not Gwen (SE10), Wes (SE17),
    # Lee (SE12).
    assert names(find(otto, "SE1")) == [
        "Alice Archer",
        "Cora Coordinator",
        "Mary Ann Smith",
        "Otto Operator",
    ]
    assert names(find(otto, "se17")) == ["Wes Walworth"]


def test_by_sector(otto: Client, callers: dict[str, Member]) -> None:
    assert names(find(otto, "SE1 7")) == ["Mary Ann Smith"]
    assert names(find(otto, "se1 2")) == ["Alice Archer", "Cora Coordinator", "Otto Operator"]


# --- What each result shows -------------------------------------------------------------------


def test_a_result_shows_name_age_postcode_phone_and_membership(
    otto: Client, personas: Personas, callers: dict[str, Member]
) -> None:
    mary = callers["mary"]
    staff = caller_for(user=personas.cora.user, circle=personas.southwark)
    offline_payment_record(
        member=mary, caller=staff, purpose="membership", method="cash", reference="C1"
    )
    response = find(otto, "mary")
    words = text_of(response)
    page = response.content.decode()

    assert f'href="/console/southwark/members/{mary.pk}/"' in page
    assert "1 caller matches “mary”" in words
    assert "Mary Ann Smith 81 SE1 7PB 07700 900123 Active until" in words
    assert re.search(r"Active until \w+day \d+ \w+ \d{4}", words)


def test_membership_in_words_for_each_status(
    otto: Client, personas: Personas, callers: dict[str, Member]
) -> None:
    for status, words in (
        (MembershipStatus.PENDING, "Not paid yet"),
        (MembershipStatus.GRACE, "Grace period"),
        (MembershipStatus.LAPSED, "Lapsed"),
    ):
        Member.objects.filter(pk=callers["mary"].pk).update(membership_status=status)
        assert words in text_of(find(otto, "mary")), status


def test_an_unknown_age_says_so(otto: Client, personas: Personas) -> None:
    MemberFactory(circle=personas.southwark, full_name="Nora Nodate", date_of_birth=None)
    assert "Nora Nodate Not known" in text_of(find(otto, "nora"))


def test_many_results_show_the_first_25_and_say_how_many(otto: Client, personas: Personas) -> None:
    for i in range(30):
        MemberFactory(circle=personas.southwark, user=None, full_name=f"Pat Many{i:02d}")
    response = find(otto, "many")

    assert len(names(response)) == 25
    assert names(response)[0] == "Pat Many00"
    assert "30 callers match “many”: the first 25 are shown. Type more to narrow it." in text_of(
        response
    )


# --- Nothing found ----------------------------------------------------------------------------


def test_nothing_found_says_so_and_offers_registering(otto: Client) -> None:
    response = find(otto, "Zebedee Zane")
    words = text_of(response)

    assert names(response) == []
    assert "No callers match “Zebedee Zane”" in words
    assert "Register a caller" in words
    assert 'href="/console/southwark/members/new/?full_name=Zebedee+Zane"' in (
        response.content.decode()
    )


def test_nothing_found_by_phone_offers_registering_with_the_number(otto: Client) -> None:
    page = find(otto, "07700 900 999").content.decode()
    assert 'href="/console/southwark/members/new/?phone=07700+900+999"' in page


def test_odd_searches_find_nobody_and_never_fail(otto: Client) -> None:
    for q in ("%", "_", "'; DROP TABLE members_member; --", "((((", "\\", "é"):
        response = find(otto, q)
        assert response.status_code == 200, q
        assert names(response) == [], q


def test_a_nul_character_is_refused_in_words(otto: Client) -> None:
    response = find(otto, "ali\x00ce")
    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert "Type a name, a phone number or a postcode." in text_of(response)
    assert names(response) == []


def test_a_wildcard_is_matched_as_itself(otto: Client, personas: Personas) -> None:
    MemberFactory(circle=personas.southwark, full_name="Percy 100% Pike")
    assert names(find(otto, "100%")) == ["Percy 100% Pike"]


# --- The fragment for search as you type ------------------------------------------------------


def test_the_fragment_is_only_the_results(otto: Client, callers: dict[str, Member]) -> None:
    response = find(otto, "07700 900 123", part=True)
    page = response.content.decode()

    assert response.status_code == 200
    assert names(response) == ["Mary Ann Smith"]
    assert "<html" not in page
    assert "<form" not in page
    assert "data-count" in page
    assert "1 caller matches “07700 900 123”" in text_of(response)


def test_the_fragment_says_when_nothing_matches(otto: Client) -> None:
    response = find(otto, "Zebedee", part=True)
    assert "No callers match “Zebedee”" in text_of(response)
    assert "<html" not in response.content.decode()


def test_the_fragment_of_an_empty_box_is_empty(otto: Client) -> None:
    response = find(otto, "", part=True)
    assert response.status_code == 200
    assert text_of(response) == ""


def test_the_whole_page_and_the_fragment_list_the_same(
    otto: Client, callers: dict[str, Member]
) -> None:
    for q in ("SE1", "mary", "07700900123", "se1 7"):
        assert names(find(otto, q)) == names(find(otto, q, part=True)), q


# --- Queries ----------------------------------------------------------------------------------


def test_the_page_and_fragment_send_a_fixed_number_of_queries(
    otto: Client, personas: Personas, django_assert_max_num_queries: Any
) -> None:
    staff = caller_for(user=personas.cora.user, circle=personas.southwark)
    made = [
        MemberFactory(circle=personas.southwark, full_name=f"Quinn Query{i:02d}") for i in range(40)
    ]
    for i, member in enumerate(made[:10]):
        offline_payment_record(
            member=member, caller=staff, purpose="membership", method="cash", reference=f"Q{i}"
        )

    def counted(q: str, part: bool) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = find(otto, q, part=part)
        assert response.status_code == 200
        return len(queries.captured_queries)

    for part in (False, True):
        one = counted("Query00", part)
        few = counted("Query0", part)  # 10 found
        many = counted("Query", part)  # 40 found: 25 shown and a count
        assert one == few
        assert many <= one + 1
        with django_assert_max_num_queries(8):
            find(otto, "Query", part=part)
