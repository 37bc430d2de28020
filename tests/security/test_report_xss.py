"""Script in data never runs in the report: text from the marts enters the page as text, and a strict
Content-Security-Policy refuses any script the page did not ship (real headless Chromium)."""

from __future__ import annotations

import re

import duckdb
import pytest

from socialcx.serving.report import build_report
from tests.socialcx.test_report import MARTS

pytestmark = pytest.mark.integration

# each tries another way out of the text it sits in: an element, the JSON block, an attribute, a comment
HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    '</script><script>window.__pwned=2</script>',
    '"><svg onload="window.__pwned=3">',
    "<!--<script>window.__pwned=4</script>",
    "<a href=\"javascript:window.__pwned=5\">x</a>",
]


@pytest.fixture
def hostile_report(tmp_path):
    published = tmp_path / "socialcx.duckdb"
    con = duckdb.connect(str(published))
    con.execute(MARTS)
    for n, brand in enumerate(HOSTILE):
        day = f"2026-01-0{5 + n % 3}"
        con.execute("insert into marts.mart_service_performance values (?, ?, 's', ?, 'en', 2, 1, 1, 1, 0, 1)",
                    [brand, day, brand])
        con.execute("insert into marts.mart_response_times_weekly values (?, '2026-01-05', 1, 10, 12, 5, 6)", [brand])
        con.execute("insert into marts.mart_sentiment values (?, ?, 10, 2, 5, -0.3, true)", [brand, day])
        con.execute("insert into marts.mart_customer_recovery values (?, '2026-01-01', ?, 'under 1h', 3, 1)",
                    [brand, brand])
        con.execute("insert into marts.mart_retention values (?, '2026-01-01', ?, 'recovered', 1, 10, 5)", [brand, brand])
        con.execute("insert into marts.mart_wallet_share values (?, '2026-01-01', 2, 1.0, 0.6)", [brand])
        con.execute("insert into marts.mart_roi values (?, '2026-01-01', 5, 1.0, 5.0, 1, 100.0, 200.0, 0.5, 8.01, 90)", [brand])
    con.close()
    out = tmp_path / "latest"
    build_report(published, out, run_id='<script>window.__pwned=9</script>')
    return out / "index.html"


def test_the_page_carries_a_strict_policy_and_no_inline_handlers(hostile_report):
    html = hostile_report.read_text()
    [policy] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "http" not in script_src
    assert "default-src 'none'" in policy
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html.split("<script>")[0], re.I)  # no inline handler
    data = html.split('<script id="report-data" type="application/json">')[1].split("</script>")[0]
    assert "window.__pwned" in data and "<" not in data and ">" not in data  # the data is there, escaped (\u003c)


def test_hostile_text_runs_no_script_and_shows_as_text(hostile_report, page):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(hostile_report.as_uri())
    page.wait_for_selector("body[data-rendered]", timeout=30000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    labels = page.locator("#brand-filter label").all_inner_texts()
    for brand in HOSTILE:
        assert any(brand in label for label in labels), brand  # shown literally, as text
    assert page.locator("#brand-filter img, #brand-filter svg, #kpis img, #kpis script").count() == 0
    # every chart still drew (the policy allows the page's own scripts), with no error at all
    assert page.locator(".chart .main-svg").count() >= 9
    assert page.errors == [] and violations == []
    # a filter change redraws with the hostile names in place
    page.locator("#brand-filter input").first.uncheck()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None and page.errors == []
