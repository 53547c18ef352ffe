from __future__ import annotations

import csv
from pathlib import Path

import pytest

from circle.postcodes import (
    POSTCODE_ATTRIBUTION,
    InvalidPostcode,
    Point,
    UnknownPostcode,
    distance_km,
    locate_postcode,
    normalise_postcode,
    postcode_district,
    postcode_sector,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "circle" / "data"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A9 9AA
        ("M1 1AE", "M1 1AE"),
        ("b33 8th", "B33 8TH"),
        # A99 9AA
        ("M60 1NW", "M60 1NW"),
        # AA9 9AA
        ("CR2 6XH", "CR2 6XH"),
        ("se17pb", "SE1 7PB"),
        ("SE1 7PB", "SE1 7PB"),
        # AA99 9AA
        ("DN55 1PT", "DN55 1PT"),
        ("cf103rb", "CF10 3RB"),
        # A9A 9AA
        ("W1A 1HQ", "W1A 1HQ"),
        ("w1a1aa", "W1A 1AA"),
        # AA9A 9AA
        ("EC1A 1BB", "EC1A 1BB"),
        (" sw1a  1aa ", "SW1A 1AA"),
        # The one exception to the pattern.
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
        # Whitespace of every kind, anywhere.
        ("\tEH1\n2NG\r\n", "EH1 2NG"),
        ("E H 1 2 N G", "EH1 2NG"),
        ("SE1\u00a07PB", "SE1 7PB"),  # non-breaking space, as pasted from web pages
        ("sE1 7pB", "SE1 7PB"),
    ],
)
def test_normalise_accepts_real_formats(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "SE1 7P",  # inward code too short
        "SE1",  # outward code alone
        "SE1 7PBB",
        "ABC1 1AA",  # three letters
        "1SE 7PB",  # starts with a digit
        "SE1 7CB",  # C is never used in the inward code
        "SE1 7PI",
        "SE1 7KM",
        "SE1 7OV",
        "SE1 APB",  # inward code must start with a digit
        "SW1AA 1AA",  # outward code too long
        "SE1-7PB",
        "SE1_7PB",
        "SE1 7PB!",
        "GIR 0AB",  # GIR only ever had 0AA
        "SE1 7PB" * 10,  # far too long
        "SE1 7P\u0131",  # dotless i, which upper() turns into I
        "\uff33\uff25\uff11 \uff17\uff30\uff22",  # full-width "SE1 7PB"
        "postcode",
    ],
)
def test_normalise_rejects_malformed(raw: str) -> None:
    with pytest.raises(InvalidPostcode):
        normalise_postcode(raw)


@pytest.mark.parametrize("junk", [None, 12345, b"SE1 7PB", ["SE1 7PB"]])
def test_normalise_rejects_non_strings(junk: object) -> None:
    with pytest.raises(InvalidPostcode):
        normalise_postcode(junk)


def test_invalid_postcode_is_a_value_error() -> None:
    # Callers (forms, serializers) can catch ValueError without importing our class.
    with pytest.raises(ValueError, match="not a UK postcode"):
        normalise_postcode("nonsense")


@pytest.mark.parametrize(
    ("raw", "district", "sector"),
    [
        ("SE1 7PB", "SE1", "SE1 7"),
        ("se17pb", "SE1", "SE1 7"),
        ("SW1A 1AA", "SW1A", "SW1A 1"),
        ("M1 1AE", "M1", "M1 1"),
        ("DN55 1PT", "DN55", "DN55 1"),
        ("W1A 1HQ", "W1A", "W1A 1"),
        ("GIR 0AA", "GIR", "GIR 0"),
    ],
)
def test_district_and_sector(raw: str, district: str, sector: str) -> None:
    assert postcode_district(raw) == district
    assert postcode_sector(raw) == sector


def test_district_and_sector_validate() -> None:
    with pytest.raises(InvalidPostcode):
        postcode_district("SE1 7P")
    with pytest.raises(InvalidPostcode):
        postcode_sector("12345")


# Independently known positions (landmarks), not read from our table. A sector centroid
# should be within a couple of kilometres of any address in a city-centre sector.
@pytest.mark.parametrize(
    ("raw", "true_point"),
    [
        ("SE1 7PB", Point(51.5025, -0.1194)),  # South Bank, by County Hall
        ("SW1A 1AA", Point(51.5010, -0.1416)),  # Buckingham Palace
        ("EH1 2NG", Point(55.9486, -3.1999)),  # Edinburgh Castle
        ("CF10 3RB", Point(51.4816, -3.1810)),  # Cardiff Castle
        ("M1 1AE", Point(53.4794, -2.2453)),  # Manchester city centre
        ("G1 1AA", Point(55.8609, -4.2514)),  # Glasgow city centre
    ],
)
def test_locate_known_postcodes(raw: str, true_point: Point) -> None:
    assert distance_km(locate_postcode(raw), true_point) < 2.0


def test_locate_is_plausible_for_london() -> None:
    point = locate_postcode("se1 7pb")
    assert point.latitude == pytest.approx(51.50, abs=0.02)
    assert point.longitude == pytest.approx(-0.10, abs=0.03)


def test_nonexistent_unit_in_known_sector_is_placed_at_the_sector() -> None:
    # Geocoding is to sector level, by design: see locate_postcode.
    assert locate_postcode("SE1 7ZZ") == locate_postcode("SE1 7PB")


@pytest.mark.parametrize(
    "raw",
    [
        "ZZ9 9ZZ",  # no ZZ area
        "BT1 1AA",  # Northern Ireland: not in Code-Point Open
        "JE2 3AB",  # Jersey
        "IM1 1AA",  # Isle of Man
        "GIR 0AA",  # valid shape, but non-geographic
    ],
)
def test_unknown_sector_raises(raw: str) -> None:
    with pytest.raises(UnknownPostcode, match="not known"):
        locate_postcode(raw)


def test_unknown_postcode_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        locate_postcode("ZZ9 9ZZ")


def test_locate_validates_first() -> None:
    with pytest.raises(InvalidPostcode):
        locate_postcode("SE1 7P")


def test_distance_london_to_edinburgh() -> None:
    km = distance_km(locate_postcode("SE1 7PB"), locate_postcode("EH1 2NG"))
    assert km == pytest.approx(530, abs=15)


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    a = locate_postcode("CF10 3RB")
    b = locate_postcode("SW1A 1AA")
    assert distance_km(a, a) == 0.0
    assert distance_km(a, b) == pytest.approx(distance_km(b, a))
    assert distance_km(a, b) == pytest.approx(212, abs=10)


def test_point_is_immutable() -> None:
    point = Point(51.5, -0.1)
    with pytest.raises(AttributeError):
        point.latitude = 0.0


def test_table_is_sorted_and_well_formed() -> None:
    with (DATA_DIR / "postcode_sectors.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["sector", "latitude", "longitude", "units"]
        rows = list(reader)
    sectors = [row[0] for row in rows]
    assert sectors == sorted(sectors)
    assert len(set(sectors)) == len(sectors)
    assert len(rows) > 10_000
    for sector, lat, lon, units in rows:
        # Every sector must be one that postcode_sector() can produce.
        assert postcode_sector(f"{sector}AA") == sector
        # Great Britain, Scilly to Shetland.
        assert 49.8 < float(lat) < 60.9
        assert -8.7 < float(lon) < 1.8
        assert int(units) > 0


def test_attribution_matches_data_notes() -> None:
    notes = (DATA_DIR / "POSTCODE_DATA.md").read_text(encoding="utf-8")
    for statement in POSTCODE_ATTRIBUTION.split(". "):
        assert statement.rstrip(".") in notes
    assert "Open Government Licence" in notes
    assert "Northern Ireland (BT)" in notes
