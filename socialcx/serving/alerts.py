"""Alerts for what must not wait: negative-sentiment spikes (quoting what they are about), unanswered complaints
that are spreading (wildfires, sent ahead of any SLA), urgent posts unanswered (at once: they cannot wait for an
SLA), negative posts left unanswered past their SLA, and survey detractors nobody contacted within the
closed-loop target.

Alerts go out through Airflow's notifiers, configured as Airflow connections (in the metadata DB, or as
``AIRFLOW_CONN_*`` variables), never as settings in the code:

- ``socialcx_alerts_webhook``: a Slack incoming webhook, or anything that accepts Slack's JSON (Mattermost,
  Rocket.Chat, a Teams workflow). Connection type ``slackwebhook``; the webhook URL's path as the password
  or the whole webhook URL as the password, e.g.
  ``{"conn_type": "slackwebhook", "password": "https://hooks.slack.com/services/T000/B000/XXX"}``.
- ``socialcx_alerts_smtp``: an SMTP server (connection type ``smtp``); recipients in SOCIALCX_ALERT_EMAIL_TO.

A channel whose connection does not exist is skipped. Every incident has a key (``negative_spike:<brand>:<day>``,
``wildfire:<conversation_id>``, ``unanswered:<conversation_id>``, ``detractor_loop:<response>``); a delivery is recorded in ``ops.alert_deliveries`` per key and channel only
after the channel accepted it, so an incident alerts once per channel, re-runs and backfills send nothing new,
and a channel that was down gets the alert on the next run. Messages carry redacted text only.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from socialcx.core.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_CONN = "socialcx_alerts_webhook"
SMTP_CONN = "socialcx_alerts_smtp"


# Recent means relative to the marts' as-of time (int_as_of, published as mart_service_summary.as_of_at), not the
# wall clock, so a backfill or a late file drop alerts on what was recent in its data, and old history never floods
# the channels.
SPIKES = """
select 'negative_spike:' || brand || ':' || activity_date as alert_key, brand, activity_date,
       post_count, negative_count, negative_count_7d_mean, negative_count_7d_sd, baseline_days
from marts.mart_sentiment
where is_negative_spike
  and activity_date > (select max(as_of_at) from marts.mart_service_summary)::date - ?
order by activity_date, brand
"""

# what each spike is about (mart_spike_drivers): its top terms and the category whose share rose most
DRIVERS = """
select driver_kind, driver, share_change_pts
from marts.mart_spike_drivers
where brand = ? and activity_date = ? and driver_rank <= 3
order by driver_kind desc, driver_rank
"""

# an unanswered complaint spreading now (mart_amplification.is_wildfire): no SLA to wait for
WILDFIRES = """
with as_of as (select max(as_of_at) as as_of_at from marts.mart_service_summary)
select 'wildfire:' || a.conversation_id as alert_key, a.brand, a.conversation_id, a.first_inbound_at,
       a.engagement_while_unanswered, a.reach_while_unanswered, a.engagement_per_hour_unanswered,
       a.brand_norm_engagement_per_hour, a.primary_category, p.text_redacted
from marts.mart_amplification as a
cross join as_of
left join marts.fct_posts as p
    on p.conversation_id = a.conversation_id and p.reply_depth = 0
where a.is_wildfire
  and not a.is_responded
  and a.first_inbound_at > as_of.as_of_at - to_hours(?)
order by a.first_inbound_at, a.conversation_id
"""

# a detractor nobody contacted within the target (fct_detractor_loops.is_past_target) whose contact fell due within
# the alert window
DETRACTOR_LOOPS = """
with as_of as (select max(as_of_at) as as_of_at from marts.mart_service_summary)
select 'detractor_loop:' || l.response_key as alert_key, l.brand, l.response_id, l.responded_at, l.score, l.team,
       l.age_hours, r.comment_redacted
from marts.fct_detractor_loops as l
cross join as_of
left join marts.fct_survey_responses as r
    on r.response_key = l.response_key
where l.is_past_target
  and l.contact_due_at > as_of.as_of_at - to_hours(?)
order by l.responded_at, l.response_key
"""

UNANSWERED = """
with as_of as (select max(as_of_at) as as_of_at from marts.mart_service_summary)
select 'unanswered:' || c.conversation_id as alert_key, c.brand, c.conversation_id, c.first_inbound_at,
       c.sla_target_minutes, c.is_sla_breached, date_diff('minute', c.first_inbound_at, as_of.as_of_at) as waiting_minutes,
       c.open_wait_business_seconds / 60 as waiting_business_minutes,
       c.urgency, c.first_customer_sentiment, c.primary_category, p.text_redacted
from marts.fct_conversations as c
cross join as_of
left join marts.fct_posts as p
    on p.conversation_id = c.conversation_id and p.reply_depth = 0
where not c.is_responded
  -- urgent (legal or safety, a churn threat, public shaming: nlp urgency 'high') cannot wait for the SLA; a
  -- negative post alerts once its SLA is breached
  and (c.urgency = 'high' or (c.is_sla_breached and c.first_customer_sentiment = 'negative'))
  and c.first_inbound_at > as_of.as_of_at - to_hours(?)
order by c.first_inbound_at, c.conversation_id
"""


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    brand: str
    subject: str
    text: str


def _spikes(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Alert]:
    alerts = []
    rows = con.execute(SPIKES, [settings.alert_spike_days]).fetchall()
    for key, brand, day, posts, negative, mean, sd, baseline_days in rows:
        # the message quotes the test that fired (mart_sentiment.is_negative_spike) and what the spike is about
        alerts.append(Alert(key, "negative_spike", brand, f"[socialcx] negative sentiment spike: {brand} on {day}",
                            f"{brand} had {negative} negative of {posts} scored customer posts on {day}, against "
                            f"{_number(mean)} +/- {_number(sd)} a day over the previous {baseline_days} day(s) with "
                            "posts: above that mean plus spike_k standard deviations, with at least "
                            f"spike_min_negatives negative posts.{_drivers(con, brand, day)}"))
    return alerts


def _drivers(con: duckdb.DuckDBPyConnection, brand: str, day: object) -> str:
    """' Drivers: 'app crash', 'login', category outage +34 pts.' or '' when the mart has none for the day."""
    try:
        rows = con.execute(DRIVERS, [brand, day]).fetchall()
    except duckdb.CatalogException:  # a warehouse built before mart_spike_drivers existed
        return ""
    terms = [f"'{driver}'" for kind, driver, _ in rows if kind == "term"]
    categories = [f"category {driver} +{change:.0f} pts" for kind, driver, change in rows if kind == "category"][:1]
    return f" Drivers: {', '.join(terms + categories)}." if rows else ""


def _wildfires(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Alert]:
    alerts = []
    rows = con.execute(WILDFIRES, [settings.alert_window_hours]).fetchall()
    for key, brand, conversation, opened, engagement, reach, per_hour, norm, category, text in rows:
        growth = "" if norm is None else (f", {_number(per_hour)} engagements an hour against the brand's "
                                          f"recent norm of {_number(norm)}")
        alerts.append(Alert(key, "wildfire", brand, f"[socialcx] unanswered complaint spreading: {brand}",
                            f"{brand} has not answered conversation {conversation} ({category or 'uncategorised'}) "
                            f"opened {opened:%Y-%m-%d %H:%M} UTC, and it is spreading: {engagement} engagements "
                            f"(likes, reposts, quotes) and a potential reach of {reach} people while unanswered"
                            f"{growth}. Post (redacted): {(text or '')[:200]}"))
    return alerts


def _unanswered(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Alert]:
    alerts = []
    rows = con.execute(UNANSWERED, [settings.alert_window_hours]).fetchall()
    for key, brand, conversation, opened, sla, breached, waiting, waiting_business, urgency, sentiment, category, text in rows:
        why = " and ".join(w for w, on in (("urgent", urgency == "high"), ("negative", sentiment == "negative")) if on)
        snippet = (text or "")[:200]
        # the SLA is in business minutes (fct_conversations.is_sla_breached): compare like with like
        alerts.append(Alert(key, "unanswered", brand,
                            f"[socialcx] {why} post unanswered {'past SLA' if breached else 'now'}: {brand}",
                            f"{brand} has not answered conversation {conversation} ({why}, {category or 'uncategorised'})"
                            f" opened {opened:%Y-%m-%d %H:%M} UTC: waiting {_number(waiting_business, 0)} business "
                            f"minutes against an SLA of {sla} business minutes ({waiting} minutes on the clock). "
                            f"Post (redacted): {snippet}"))
    return alerts


def _detractor_loops(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Alert]:
    alerts = []
    rows = con.execute(DETRACTOR_LOOPS, [settings.alert_window_hours]).fetchall()
    for key, brand, response, answered, score, team, age, comment in rows:
        alerts.append(Alert(key, "detractor_loop", brand, f"[socialcx] detractor not contacted in time: {brand}",
                            f"{brand}: survey answer {response} scored {score} on {answered:%Y-%m-%d %H:%M} UTC "
                            f"and nobody has contacted the customer after {_number(age, 0)} hours, past the "
                            f"detractor_contact_target_hours target. Team: {team}. Comment (redacted): "
                            f"{(comment or '')[:200]}"))
    return alerts


def _number(value: object, digits: int = 1) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"


# wildfires before the SLA kind: a spreading complaint goes out first
KINDS = {"negative_spike": _spikes, "wildfire": _wildfires, "unanswered": _unanswered,
         "detractor_loop": _detractor_loops}


def detect(con: duckdb.DuckDBPyConnection, settings: Settings,
           failed: list[str] | None = None) -> list[Alert]:
    """Every current incident (sent or not): spikes in the last few days, unanswered complaints spreading and
    unanswered conversations that breached their SLA within the alert window. Each kind is detected on its own: one that fails (a mart missing, a value
    it cannot format) is reported in ``failed`` and the others are still sent."""
    alerts = []
    for kind, find in KINDS.items():
        try:
            alerts += find(con, settings)
        except Exception as exc:  # noqa: BLE001 - an alert kind must never silence the others
            log.warning("alert kind %s failed (%s); the other kinds are still sent", kind, type(exc).__name__)
            if failed is not None:
                failed.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
    return alerts


def _connection_exists(conn_id: str) -> bool:
    try:
        from airflow.sdk import BaseHook

        BaseHook.get_connection(conn_id)
        return True
    except Exception:  # no Airflow connection of that name (or no Airflow at all): the channel is off
        return False


def _senders(settings: Settings) -> dict[str, object]:
    """Channel name -> a function sending one alert, for every configured channel."""
    senders: dict[str, object] = {}
    if _connection_exists(WEBHOOK_CONN):
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        def webhook(alert: Alert) -> None:
            SlackWebhookNotifier(slack_webhook_conn_id=WEBHOOK_CONN, text=f"*{alert.subject}*\n{alert.text}").notify({})

        senders["webhook"] = webhook
    if _connection_exists(SMTP_CONN):
        if not settings.alert_email_to:
            log.warning("connection %s exists but SOCIALCX_ALERT_EMAIL_TO is empty: no e-mail alerts", SMTP_CONN)
        else:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            def email(alert: Alert) -> None:
                SmtpNotifier(to=settings.alert_email_to, from_email=settings.alert_email_from, subject=alert.subject,
                             html_content=f"<p>{html.escape(alert.text)}</p>", smtp_conn_id=SMTP_CONN).notify({})

            senders["email"] = email
    return senders


def send_new(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> dict[str, object]:
    """Send each incident not yet delivered on a channel; record each delivery once the channel took it."""
    failed: list[str] = []
    alerts = detect(con, settings, failed)
    senders = _senders(settings)
    sent: dict[str, int] = {channel: 0 for channel in senders}
    delivered = {(k, c) for k, c in con.execute("select alert_key, channel from ops.alert_deliveries").fetchall()}
    for alert in alerts:
        for channel, send in senders.items():
            if (alert.key, channel) in delivered:
                continue
            try:
                send(alert)
            except Exception as exc:  # one channel down must not stop the others; retried next run
                failed.append(f"{channel} {alert.key}: {type(exc).__name__}")
                log.warning("alert %s not delivered on %s (%s); it is retried on the next run",
                            alert.key, channel, type(exc).__name__)
                continue
            con.execute("insert into ops.alert_deliveries values (?, ?, ?, ?, ?, ?, ?)",
                        [alert.key, channel, alert.kind, alert.brand, alert.subject, run_id, datetime.now(UTC)])
            sent[channel] += 1
    return {"incidents": len(alerts), "channels": sorted(senders), "sent": sent, "failed": failed}
