"""UK postcodes: validation, normalisation and offline geocoding to postcode sector.

Members and helpers give a postcode; we store it normalised ("SE1 7PB") and place it at
the centroid of its postcode sector ("SE1 7") from a table built from Ordnance Survey
Code-Point Open by ``scripts/build_postcode_sectors.py`` (see ``data/POSTCODE_DATA.md``).

Deliberately free of Django so it can be used from scripts, Celery tasks and tests alike.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from geopy.distance import great_circle

__all__ = [
    "POSTCODE_ATTRIBUTION",
    "InvalidPostcode",
    "Point",
    "UnknownPostcode",
    "distance_km",
    "locate_postcode",
    "normalise_postcode",
    "postcode_district",
    "postcode_sector",
]


class InvalidPostcode(ValueError):
    """The text is not shaped like a UK postcode."""


class UnknownPostcode(LookupError):
    """The postcode is well formed but its sector is not in our table."""


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


# The year must match data/POSTCODE_DATA.md, which the build script writes from the source
# release; a test keeps the two in step. OGL v3 requires these statements wherever the
# data, or anything derived from it, is shown or redistributed.
_DATA_YEAR: Final = 2024
POSTCODE_ATTRIBUTION: Final[str] = (
    f"Contains OS data © Crown copyright and database right {_DATA_YEAR}. "
    f"Contains Royal Mail data © Royal Mail copyright and database right {_DATA_YEAR}. "
    f"Contains National Statistics data © Crown copyright and database right {_DATA_YEAR}."
)

# The six outward shapes (A9, A99, AA9, AA99, A9A, AA9A) and the inward code 9AA, whose
# letters never include C I K M O V (they look like digits or each other when handwritten).
# We check the shape only, not Royal Mail's per-position letter rules: a well-formed but
# non-existent postcode is caught by the sector lookup with a clearer "unknown" error.
# GIR 0AA (the old Girobank code) is the one historical exception to the pattern.
_POSTCODE_RE: Final = re.compile(
    r"(?P<outward>[A-Z]{1,2}[0-9][0-9A-Z]?)(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})|GIR0AA"
)
# A postcode is at most 8 characters with its space; anything far longer is junk (or abuse),
# and rejecting it early keeps the work and the error message bounded.
_MAX_RAW_LENGTH: Final = 32

_TABLE_PATH: Final = Path(__file__).resolve().parent / "data" / "postcode_sectors.csv"


def normalise_postcode(raw: str) -> str:
    """Return the postcode in canonical form ("se17pb" -> "SE1 7PB").

    Raises InvalidPostcode if ``raw`` is not a well-formed UK postcode.
    """
    # Callers pass values straight from forms and JSON, so None or numbers do turn up
    # despite the annotation; they are invalid input, not programming errors.
    if not isinstance(raw, str) or len(raw) > _MAX_RAW_LENGTH:
        raise InvalidPostcode(f"not a UK postcode: {str(raw)[:_MAX_RAW_LENGTH]!r}")
    # split() also drops non-breaking and other Unicode spaces pasted from web pages.
    compact = "".join(raw.split())
    # Checked before upper(): upper() maps some non-ASCII letters (e.g. dotless i) to ASCII.
    if not compact.isascii():
        raise InvalidPostcode(f"not a UK postcode: {raw!r}")
    compact = compact.upper()
    if _POSTCODE_RE.fullmatch(compact) is None:
        raise InvalidPostcode(f"not a UK postcode: {raw!r}")
    # The inward code is always the last three characters, which is what makes the
    # space-free form unambiguous.
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(pc: str) -> str:
    """Return the outward code (district): "SE1 7PB" -> "SE1"."""
    return normalise_postcode(pc)[:-4]


def postcode_sector(pc: str) -> str:
    """Return the postcode sector: "SE1 7PB" -> "SE1 7"."""
    return normalise_postcode(pc)[:-2]


@cache
def _sector_table() -> dict[str, Point]:
    # Loaded on first use rather than at import, so importing this module (e.g. for
    # validation alone) costs nothing. @cache is thread-safe enough here: two threads that
    # race on the first call each build an identical dict and one wins; no lock needed.
    with _TABLE_PATH.open(newline="", encoding="utf-8") as f:
        return {
            row["sector"]: Point(float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(f)
        }


def locate_postcode(raw: str) -> Point:
    """Return the approximate location of a postcode (its sector's centroid).

    Raises InvalidPostcode if the text is not a postcode and UnknownPostcode if its
    sector is not in the table (Northern Ireland, the Channel Islands, the Isle of Man,
    non-geographic postcodes, or postcodes that do not exist).
    """
    # Geocoding is to sector level: we only ship sector centroids (about 11,000 rows
    # instead of 1.7 million units), which is precise enough for matching helpers to
    # members nearby. The consequence is that a unit postcode that does not exist but lies
    # in a known sector (say "SE1 7ZZ") is accepted and placed at the sector's centroid;
    # we cannot tell it from a real one, and a typo in the last two letters still puts
    # the person in the right neighbourhood.
    sector = postcode_sector(raw)
    point = _sector_table().get(sector)
    if point is None:
        raise UnknownPostcode(f"postcode sector {sector!r} is not known")
    return point


def distance_km(a: Point, b: Point) -> float:
    """Return the distance between two points in kilometres."""
    # great_circle (spherical) rather than geodesic (ellipsoidal): about 15x faster
    # (roughly 6 us against 100 us per call with geopy 2.5), which matters when ranking
    # every helper for a request, and its error of at most ~0.5% (about 10 m in 2 km) is
    # far below the uncertainty of a sector centroid, which can be kilometres off.
    return float(great_circle((a.latitude, a.longitude), (b.latitude, b.longitude)).km)
