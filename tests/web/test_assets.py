"""The pages' own static files: GOV.UK Frontend compiled without the government identity, and
small enough for a slow phone (the issue's budget: CSS and JavaScript under 150 KB compressed)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

WEB_STATIC = Path(__file__).resolve().parents[2] / "web" / "static" / "web"
BUDGET = 150 * 1024


def test_css_and_javascript_together_are_under_150_kb_compressed():
    files = [*WEB_STATIC.glob("*.css"), *WEB_STATIC.glob("*.js")]
    assert {f.name for f in files} >= {"circle.css", "govuk-frontend.min.js", "init.js"}
    compressed = sum(len(gzip.compress(f.read_bytes(), compresslevel=9)) for f in files)
    assert compressed < BUDGET, f"{compressed} bytes gzipped"


def test_no_gds_transport_font_and_no_file_the_css_would_fetch():
    css = (WEB_STATIC / "circle.css").read_text()
    assert "GDS Transport" not in css
    assert "arial" in css.lower()
    # Every url() would be a request for a file we do not ship (the crown, GOV.UK's fonts).
    assert re.findall(r"url\(", css) == []


def test_javascript_is_loaded_as_modules_never_inline(client, db):
    html = client.get("/").content.decode()
    assert '<script type="module" src="/static/web/init.js"></script>' in html
    assert "sourceMappingURL" not in (WEB_STATIC / "govuk-frontend.min.js").read_text()
