"""The KPI report in a real browser: every chart drawn with data, offline, and the filters recompute figures."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from socialcx.serving.report import CHARTS
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration

# Per chart: how many traces hold data points, and how many SVG marks (lines, areas, bars, markers, table cells,
# heatmap images) are painted.
CHART_STATE = """els => els.map(el => ({
  id: el.id,
  points: Number(el.dataset.points),
  traces: (el.data || []).length,
  marks: [...el.querySelectorAll('.scatterlayer path, .barlayer path')].filter(p => (p.getAttribute('d') || '').length > 8).length
    + el.querySelectorAll('.table .cell-text, .heatmaplayer image').length,
  noData: el.textContent.includes('No data for this selection'),
  names: (el.data || []).map(t => t.name),
  xs: (el.data || []).flatMap(t => t.x || []),
}))"""


def _open(page, settings):
    report = settings.reports_dir / "latest" / "index.html"
    outside = []

    def only_local(route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:  # the report must not need the network: record and refuse
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(report.as_uri())
    page.wait_for_selector("body[data-rendered]")
    return outside


def _redraw(page, action) -> None:
    before = page.get_attribute("body", "data-rendered")
    action()
    page.wait_for_function(f"document.body.dataset.rendered !== '{before}'")


def _kpi(page, label: str) -> str:
    return page.locator(f".kpi:has(.label:text-is('{label}')) .value").inner_text()


def _published(settings, query: str, params=()) -> object:
    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        return con.execute(query, params).fetchone()
    finally:
        con.close()


def test_run_writes_the_report_and_every_chart_is_drawn_offline(built, page):
    settings, results = built
    assert "report" in [r["stage"] for r in results]
    outside = _open(page, settings)
    charts = page.eval_on_selector_all(".chart", CHART_STATE)
    assert [c["id"] for c in charts] == [f"chart-{cid}" for cid, _, _ in CHARTS]
    for chart in charts:
        assert chart["points"] > 0 and chart["traces"] > 0, chart["id"]
        assert chart["marks"] > 0, f"{chart['id']} has data but nothing painted"
        assert not chart["noData"], chart["id"]
    assert outside == [], f"the report asked the network for {outside}"
    assert page.errors == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)

    # the headline tiles agree with the marts (computed here in SQL, there in the page's JavaScript)
    actionable, responded = _published(settings, "select count(*) filter (where is_actionable), count(*) filter "
                                                  "(where is_actionable and is_responded) from marts.fct_conversations")
    assert _kpi(page, "actionable conversations") == f"{actionable:,}"
    assert _kpi(page, "response rate") == f"{100 * responded / actionable:.1f}%"
    # resolution and handoff as the mart counts them; net sentiment as mart_sentiment defines it
    resolved, moved, mart_actionable = _published(
        settings, "select sum(resolved_count), sum(moved_to_private_count), sum(actionable_count) "
                  "from marts.mart_service_performance")
    assert mart_actionable == actionable
    assert _kpi(page, "resolved (customer confirmed)") == f"{100 * resolved / actionable:.1f}%"
    assert _kpi(page, "moved to private channel") == f"{100 * moved / actionable:.1f}%"
    positive, negative = _published(settings, "select sum(positive_count), sum(negative_count) from marts.mart_sentiment")
    assert _kpi(page, "net sentiment") == f"{(positive - negative) / (positive + negative):.2f}"
    # the assumptions behind the value figures are on the page, from the mart
    labels = page.locator(".kpi .label").all_inner_texts()
    assert any("assumes 50% deflection at 8.01/call" in label for label in labels)


def test_the_report_data_is_the_marts(built):
    """The figures the page carries (JSON in script#report-data) are the marts' own, brand by brand."""
    import json

    settings, _ = built
    html = (settings.reports_dir / "latest" / "index.html").read_text()
    data = json.loads(html.split('<script id="report-data" type="application/json">')[1].split("</script>")[0])["data"]

    def per_brand(dataset: str, field: str) -> dict[str, float]:
        d = data[dataset]
        out: dict[str, float] = {}
        for row in d["rows"]:
            record = dict(zip(d["columns"], row, strict=True))
            out[record["brand"]] = out.get(record["brand"], 0) + (record[field] or 0)
        return out

    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        for dataset, field, mart, column in (
                ("service", "actionable_count", "mart_service_performance", "actionable_count"),
                ("service", "resolved_count", "mart_service_performance", "resolved_count"),
                ("service", "moved_to_private_count", "mart_service_performance", "moved_to_private_count"),
                ("sentiment", "negative_count", "mart_sentiment", "negative_count"),
                ("roi", "revenue_after_recovery", "mart_roi", "revenue_after_recovery"),
                ("roi", "call_cost_avoided", "mart_roi", "call_cost_avoided")):
            expected = dict(con.execute(f"select brand, sum({column}) from marts.{mart} group by brand").fetchall())
            got = per_brand(dataset, field)
            assert got.keys() == expected.keys(), dataset
            for brand in expected:
                assert got[brand] == pytest.approx(float(expected[brand]), rel=1e-6), (dataset, field, brand)
    finally:
        con.close()


def test_brand_and_date_filters_recompute_every_chart(built, page):
    settings, _ = built
    _open(page, settings)
    brands = page.eval_on_selector_all("#brand-filter input", "els => els.map(e => e.value)")
    assert len(brands) == 7
    keep = brands[0]
    for other in brands[1:]:
        _redraw(page, lambda other=other: page.uncheck(f"#brand-filter input[value='{other}']"))
    charts = {c["id"]: c for c in page.eval_on_selector_all(".chart", CHART_STATE)}
    assert {name.split(" ")[0] for name in charts["chart-frt-calendar"]["names"]} == {keep}
    assert set(charts["chart-sentiment"]["names"]) <= {keep, f"{keep} negative spike"}
    assert set(charts["chart-roi"]["xs"]) == {keep}
    (actionable,) = _published(settings, "select count(*) filter (where is_actionable) from marts.fct_conversations "
                                         "where brand = ?", [keep])
    assert _kpi(page, "actionable conversations") == f"{actionable:,}"

    # four whole weeks (Monday to Sunday) in the middle of the data: weekly figures are then exact
    (first,) = _published(settings, "select min(first_inbound_date) from marts.fct_conversations")
    start = first + timedelta(days=63 - first.weekday())
    end = start + timedelta(days=27)
    _redraw(page, lambda: page.fill("#date-start", start.isoformat()) or page.dispatch_event("#date-start", "change"))
    _redraw(page, lambda: page.fill("#date-end", end.isoformat()) or page.dispatch_event("#date-end", "change"))
    charts = {c["id"]: c for c in page.eval_on_selector_all(".chart", CHART_STATE)}
    days = [date.fromisoformat(x[:10]) for x in charts["chart-sentiment"]["xs"]]
    assert days and min(days) >= start and max(days) <= end
    (actionable,) = _published(settings, "select count(*) filter (where is_actionable) from marts.fct_conversations "
                                         "where brand = ? and first_inbound_date between ? and ?", [keep, start, end])
    assert _kpi(page, "actionable conversations") == f"{actionable:,}"

    # no brand at all: every chart says so instead of drawing stale data
    _redraw(page, lambda: page.uncheck(f"#brand-filter input[value='{keep}']"))
    charts = page.eval_on_selector_all(".chart", CHART_STATE)
    assert all(c["noData"] and c["points"] == 0 for c in charts)
    _redraw(page, lambda: page.click("#reset"))
    assert all(c["points"] > 0 for c in page.eval_on_selector_all(".chart", CHART_STATE))
    assert page.errors == []
