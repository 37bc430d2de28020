"""Alerts through Airflow's notifiers, delivered to a local Slack-compatible webhook and a local SMTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from socialcx import stages
from socialcx.core.settings import get_settings
from socialcx.serving.alerts import detect
from tests.support import free_port

pytestmark = pytest.mark.integration


class Webhook:
    """Answers like Slack's incoming webhooks: 200 "ok" for a JSON body with text; records every body."""

    def __init__(self, fail: bool = False):
        self.bodies: list[dict] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 500 if outer.fail else 200
                if not outer.fail:
                    outer.bodies.append({"path": self.path, **body})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"internal_error")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]


@pytest.fixture(autouse=True)
def wide_window(monkeypatch):
    """The small test world has a thin last month: look back thirty days so there are incidents of every kind."""
    monkeypatch.setenv("SOCIALCX_ALERT_WINDOW_HOURS", "720")
    monkeypatch.setenv("SOCIALCX_ALERT_SPIKE_DAYS", "400")  # spikes need volume now: look over the whole year


@pytest.fixture
def channels(monkeypatch):
    from aiosmtpd.controller import Controller

    class Mailbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    webhook = Webhook()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_ALERTS_WEBHOOK", json.dumps(
        {"conn_type": "slackwebhook", "schema": "http", "host": f"127.0.0.1:{webhook.port}/services",
         "password": "T000/B000/not-a-real-token"}))
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_ALERTS_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
         "extra": {"disable_ssl": True, "disable_tls": True}}))
    monkeypatch.setenv("SOCIALCX_ALERT_EMAIL_TO", "care-leads@example.com")
    yield webhook, mailbox
    smtp.stop()
    webhook.server.shutdown()


def test_each_incident_alerts_once_on_each_channel(copy_built, channels):
    settings = get_settings()
    webhook, mailbox = channels
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        incidents = detect(con, settings)
        # worked out from the marts directly: spikes of the last 400 days, breaches of the last 720 hours, both
        # before the newest post (the marts' as-of time)
        spikes = con.execute("select count(*) from marts.mart_sentiment where is_negative_spike and activity_date > "
                             "(select max(created_at)::date from marts.fct_posts) - 400").fetchone()[0]
        breaches = con.execute("""select count(*) from marts.fct_conversations where not is_responded
            and (urgency = 'high' or (is_sla_breached and first_customer_sentiment = 'negative'))
            and first_inbound_at > (select max(created_at) from marts.fct_posts) - interval 720 hours
            """).fetchone()[0]
        loops = con.execute("""select count(*) from marts.fct_detractor_loops where is_past_target
            and contact_due_at > (select max(created_at) from marts.fct_posts) - interval 720 hours""").fetchone()[0]
        wildfires = con.execute("""select count(*) from marts.mart_amplification where is_wildfire and not is_responded
            and first_inbound_at > (select max(created_at) from marts.fct_posts) - interval 720 hours""").fetchone()[0]
        explained = {r[0] for r in con.execute("select distinct brand || ' on ' || activity_date from "
                                               "marts.mart_spike_drivers where is_negative_spike").fetchall()}
    assert len(incidents) == spikes + breaches + wildfires + loops
    assert spikes > 0 and breaches > 0 and explained

    first = stages.alert(settings=settings)
    assert first["sent"] == {"webhook": len(incidents), "email": len(incidents)}
    assert len(webhook.bodies) == len(mailbox.messages) == len(incidents)
    assert all(body["path"] == "/services/T000/B000/not-a-real-token" for body in webhook.bodies)
    assert all(rcpt == ["care-leads@example.com"] for rcpt, _ in mailbox.messages)
    unanswered = [b["text"] for b in webhook.bodies if " post unanswered " in b["text"]]
    assert len(unanswered) == breaches and all("Post (redacted)" in text for text in unanswered)
    # like with like: the wait in business minutes against the SLA in business minutes
    assert all("business minutes against an SLA of" in text for text in unanswered)
    spiked = [b["text"] for b in webhook.bodies if "negative sentiment spike" in b["text"]]
    assert len(spiked) == spikes and all("spike_min_negatives" in text and "+/-" in text for text in spiked)
    # a spike with drivers in mart_spike_drivers says what it is about
    assert all(("Drivers: " in text) == any(day in text for day in explained) for text in spiked)

    # the next run (or a re-run, or a backfill) finds the same incidents and sends nothing
    second = stages.alert(settings=settings)
    assert second["incidents"] == len(incidents) and second["sent"] == {"webhook": 0, "email": 0}
    assert len(webhook.bodies) == len(mailbox.messages) == len(incidents)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct alert_key) from ops.alert_deliveries").fetchone() == (
            2 * len(incidents), len(incidents))


def test_a_channel_that_is_down_gets_the_alerts_on_the_next_run(copy_built, channels):
    settings = get_settings()
    webhook, mailbox = channels
    webhook.fail = True
    down = stages.alert(settings=settings)
    assert down["sent"]["webhook"] == 0 and down["sent"]["email"] == down["incidents"] > 0
    assert len(down["failed"]) == down["incidents"]
    assert "not-a-real-token" not in json.dumps(down)  # failures name the channel and incident, never the URL
    webhook.fail = False
    back = stages.alert(settings=settings)
    assert back["sent"] == {"webhook": down["incidents"], "email": 0}
    assert len(webhook.bodies) == len(mailbox.messages) == down["incidents"]


def test_without_connections_alerts_are_detected_but_not_sent(copy_built):
    result = stages.alert(settings=get_settings())
    assert result["channels"] == [] and result["incidents"] > 0 and result["sent"] == {}


def test_one_failing_alert_kind_never_stops_the_others(copy_built):
    """A spike query that fails (here: its mart is gone) once stopped every alert, urgent unanswered posts
    included. Each kind is detected on its own."""
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("drop table marts.mart_sentiment")
    result = stages.alert(settings=settings)
    assert result["incidents"] > 0  # the unanswered alerts are still found
    assert len(result["failed"]) == 1 and result["failed"][0].startswith("negative_spike: CatalogException")


def test_a_spike_day_without_a_baseline_is_no_spike_and_formats(copy_built):
    """A new brand's first day (no baseline) crashed the alert stage formatting a NULL baseline."""
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("""insert into marts.mart_sentiment (brand, activity_date, industry, post_count, positive_count,
            neutral_count, negative_count, net_sentiment, is_negative_spike, is_sentiment_dip, share_of_voice)
            values ('NewBrandHelp', (select max(created_at)::date from marts.fct_posts), 'generic', 9, 0, 0, 9, -1.0,
                    true, false, 1.0)""")  # as an older mart flagged it: no baseline, no mean, no sd
        failed: list[str] = []
        alerts = detect(con, settings, failed)
    assert failed == []
    [spike] = [a for a in alerts if a.brand == "NewBrandHelp"]
    assert "9 negative of 9" in spike.text and "n/a +/- n/a" in spike.text


def test_an_unanswered_complaint_that_spreads_alerts_before_its_sla(copy_built):
    """A wildfire (mart_amplification.is_wildfire) still unanswered alerts at once, whatever its SLA, with what
    it gathered; once answered it is no longer an incident."""
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        conversation = con.execute("""select conversation_id from marts.mart_amplification
            where is_negative_start and not is_responded and not is_wildfire
              and first_inbound_at > (select max(created_at) from marts.fct_posts) - interval 700 hours
            order by conversation_id limit 1""").fetchone()[0]
        con.execute("""update marts.mart_amplification set is_wildfire = true, engagement_while_unanswered = 777,
            reach_while_unanswered = 45000 where conversation_id = ?""", [conversation])
        [fire] = [a for a in detect(con, settings) if a.kind == "wildfire" and conversation in a.text]
        assert fire.key == f"wildfire:{conversation}"
        assert "777 engagements" in fire.text and "potential reach of 45000 people" in fire.text
        assert "Post (redacted)" in fire.text
        con.execute("update marts.mart_amplification set is_responded = true where conversation_id = ?",
                    [conversation])
        assert not [a for a in detect(con, settings) if a.key == f"wildfire:{conversation}"]


def test_a_detractor_nobody_contacted_alerts_once_past_the_target(copy_built):
    """fct_detractor_loops.is_past_target: a detractor whose contact fell due within the window and who has had no
    follow-up and no reply on social media; once contacted it is no longer an incident."""
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        key, score = con.execute("""select response_key, score from marts.fct_detractor_loops
            order by responded_at desc, response_key limit 1""").fetchone()
        con.execute("""update marts.fct_detractor_loops set is_past_target = true, first_contact_at = null,
            contact_due_at = (select max(as_of_at) from marts.mart_service_summary) - interval 1 hour, age_hours = 49
            where response_key = ?""", [key])
        [loop] = [a for a in detect(con, settings) if a.key == f"detractor_loop:{key}"]
        assert loop.kind == "detractor_loop" and f"scored {score}" in loop.text and "after 49 hours" in loop.text
        assert "@example.com" not in loop.text
        con.execute("update marts.fct_detractor_loops set is_past_target = false where response_key = ?", [key])
        assert not [a for a in detect(con, settings) if a.key == f"detractor_loop:{key}"]


def test_an_urgent_post_alerts_at_once_a_negative_one_after_its_sla(copy_built, monkeypatch):
    monkeypatch.setenv("SOCIALCX_ALERT_WINDOW_HOURS", "720")
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        conversation = con.execute("""select conversation_id from marts.fct_conversations where not is_responded
            order by first_inbound_at desc, conversation_id limit 1""").fetchone()[0]
        con.execute("update marts.fct_conversations set is_sla_breached = false, urgency = 'low', "
                    "first_customer_sentiment = 'negative' where conversation_id = ?", [conversation])
        keys = {alert.key for alert in detect(con, settings)}
        assert f"unanswered:{conversation}" not in keys  # negative, but its SLA is not yet breached
        con.execute("update marts.fct_conversations set urgency = 'high' where conversation_id = ?", [conversation])
        urgent = [a for a in detect(con, settings) if a.key == f"unanswered:{conversation}"]
        con.execute("update marts.fct_conversations set urgency = 'low', is_sla_breached = true "
                    "where conversation_id = ?", [conversation])
        breached = [a for a in detect(con, settings) if a.key == f"unanswered:{conversation}"]
    assert len(urgent) == 1 and "urgent and negative post unanswered now" in urgent[0].subject
    assert len(breached) == 1 and "negative post unanswered past SLA" in breached[0].subject
