"""A deterministic generator of a believable social customer-service world.

Seven brands in three industries answer (or ignore) customers on a social network over twelve months.
Everything is drawn from one seeded random generator, so the same size, seed and end date always
give the same world, row for row. The generator is vectorised with numpy: only the text is composed
per post.

What the world contains, and why:
- customers who each spend with several brands of an industry, so wallet share is measurable;
- complaints, questions, requests and praise in every category of the NLP taxonomy;
- replies that wait for business hours, weekends and holidays, slower on incident days (backlog);
- multi-turn threads: consecutive customer posts, follow-ups, resolutions, unanswered posts;
- customers who stop buying more often after being ignored or answered slowly, and less often
  after a complaint was recovered;
- an audience: heavy-tailed (Pareto) follower counts, so a few customers reach many; each opening post's
  engagement observed over its first days (raw.post_metrics), gathering faster while a complaint goes
  unanswered, and the customers who reposted or quoted it (raw.post_shares);
- NPS survey answers consistent with each customer's service on social in the 90 days before (ignored customers
  score lower, recovered ones often become promoters), some customers answering twice, and follow-ups (contact
  and closing) for part of the detractors.

The audience and the surveys are drawn from their own random streams (seeded from the same seed), so adding them
left every conversation, order and reply of the world as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from extractors.sample import phrases as P
from extractors.sample.world import BRANDS, INDUSTRY_ORDER_VALUE, INDUSTRY_ORDERS_PER_MONTH, competitors
from socialcx.core.pii import email_hash

FIRST_NAMES = ["ana", "ben", "carla", "dev", "emma", "farid", "gina", "hugo", "ines", "jack", "kira", "liam", "maya",
               "noah", "olga", "pete", "quinn", "rosa", "sam", "tara", "umar", "vera", "will", "xena", "yusuf", "zoe",
               "alex", "bea", "chris", "dana", "eli", "fay", "gus", "hana", "ivan", "jo", "kai", "lena", "mo", "nia"]
LAST_NAMES = ["smith", "lee", "garcia", "khan", "nguyen", "brown", "rossi", "muller", "silva", "kim", "cohen", "patel",
              "jones", "ortiz", "novak", "white", "ali", "moreau", "sato", "berg"]


@dataclass
class SampleWorld:
    brands: pd.DataFrame
    customers: pd.DataFrame
    orders: pd.DataFrame
    posts: pd.DataFrame
    authors: pd.DataFrame | None = None  # raw.authors rows (AUTHOR_FIELDS)
    metrics: pd.DataFrame | None = None  # raw.post_metrics rows: post_id, observed_at, the four counts
    shares: pd.DataFrame | None = None  # raw.post_shares rows: post_id, author_id, kind, shared_at
    conversations: pd.DataFrame | None = None  # what the generator meant: conversation_id, kind (not loaded)
    surveys: pd.DataFrame | None = None  # survey answers in the survey source's native layout (e-mails in clear)
    followups: pd.DataFrame | None = None  # detractor follow-ups: response_id, contacted_at, closed_at, team, note
    labels: pd.DataFrame | None = None  # what the writer of each Spanish post meant: post_id, industry, text,
    #                                     sentiment, intent, category (phrases.SPANISH; not loaded)


# The care team: each agent's speed (a factor on the brand's reply delay) and style (True: writes each reply for the
# customer; False: answers from the brand's templates). Indexed like phrases.AGENTS.
AGENT_SPEED = np.array([0.6, 1.4, 1.0, 0.8, 2.2, 1.0, 0.7, 1.2, 1.7, 0.9])
AGENT_PERSONAL = np.array([True, False, False, True, False, False, True, False, False, False])
# Shifts that leave gaps: per brand, a weekly hour range (ISO weekday, local start hour, end hour) inside business
# hours that nobody covers; replies due in it wait for its end.
SHIFT_GAPS = {"NorthJetHelp": (6, 12, 16), "BasketBoxSupport": (1, 9, 12), "VoltMobileCare": (5, 13, 17),
              "ParcelMartHelp": (3, 14, 16)}


def _shift_gaps(t_reply: pd.Series, conv_brand: np.ndarray, crew: np.random.Generator) -> pd.Series:
    """Replies that fall in a brand's uncovered hours wait for the end of the gap (plus a few minutes)."""
    moved = t_reply.copy()
    late = crew.uniform(5, 40, len(t_reply))
    for b, brand in enumerate(BRANDS):
        if brand.handle not in SHIFT_GAPS:
            continue
        day, start, stop = SHIFT_GAPS[brand.handle]
        mask = (conv_brand == b) & t_reply.notna().to_numpy()
        local = t_reply[mask].dt.tz_convert(brand.timezone)
        inside = ((local.dt.dayofweek + 1 == day) & (local.dt.hour >= start) & (local.dt.hour < stop)).to_numpy()
        gap_end = (local.dt.normalize() + pd.Timedelta(hours=stop)).dt.tz_convert("UTC")
        idx = np.flatnonzero(mask)[inside]
        moved.iloc[idx] = (gap_end[inside] + pd.to_timedelta(late[idx], unit="m")).dt.round("s").to_numpy()
    return moved


# When an opening post's engagement is observed, hours after it (a network's API re-read of recent posts).
OBSERVED_AFTER_HOURS = (0.5, 2.0, 6.0, 24.0, 72.0)
ENGAGEMENT_DECAY_HOURS = 12.0  # attention fades: the engagement rate falls by e every 12 hours
UNANSWERED_BOOST = 4.0  # a complaint gathers engagement this many times faster while nobody answers it
ENGAGEMENT_PER_FOLLOWER = 0.0025  # expected engagements an hour per follower, at the start
MAX_KNOWN_SHARERS = 25  # the reposting or quoting customers the sample names, per post


def _fill(template: str, rng: np.random.Generator, **fixed: str) -> str:
    if "{" not in template:
        return template
    slots = {
        "city": P.CITIES[rng.integers(len(P.CITIES))],
        "hours": str(rng.integers(2, 9)),
        "days": str(rng.integers(2, 15)),
        "num": str(rng.integers(100, 2999)),
        "item": P.ITEMS[rng.integers(len(P.ITEMS))],
        "item2": P.ITEMS[rng.integers(len(P.ITEMS))],
        "device": P.DEVICES[rng.integers(len(P.DEVICES))],
        "plan": P.PLANS[rng.integers(len(P.PLANS))],
        "amount": f"{rng.integers(15, 900)}",
        "ref": f"{''.join(rng.choice(list('ABCDEFGHJKLMNPQRSTUVWXYZ'), 3))}{rng.integers(100000, 999999)}",
        "email": f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]}.{rng.integers(10, 99)}@example.com",
        "phone": f"+1 555 {rng.integers(100, 999)} {rng.integers(1000, 9999)}",
    }
    slots.update(fixed)
    return template.format(**slots)


def _to_utc(local_naive: pd.Series, tz: str) -> pd.Series:
    return local_naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")


def _next_business_open(local: pd.Series, brand_idx: np.ndarray) -> pd.Series:
    """For local wall-clock times, the wall-clock time a brand's team is next at work (the time itself if open)."""
    result = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    for b, brand in enumerate(BRANDS):
        mask = brand_idx == b
        if not mask.any():
            continue
        times = local[mask]
        holidays = pd.to_datetime(list(brand.holidays)) if brand.holidays else pd.DatetimeIndex([])
        found = pd.Series(pd.NaT, index=times.index, dtype="datetime64[ns]")
        for k in range(0, 8):
            day = times.dt.normalize() + pd.Timedelta(days=k)
            open_at = day + pd.Timedelta(hours=brand.open_hour)
            close_at = day + pd.Timedelta(hours=brand.close_hour)
            workday = day.dt.isocalendar().day.isin(brand.business_days).to_numpy() & ~day.isin(holidays).to_numpy()
            candidate = open_at.where(times < open_at, times)  # already open: now
            ok = workday & (times < close_at).to_numpy() & found.isna().to_numpy()
            found[ok] = candidate[ok]
        result[mask] = found
    return result


def generate(posts: int = 20_000, seed: int = 42, end_date: str = "2026-10-31") -> SampleWorld:
    if posts < 10:
        raise ValueError(f"--posts {posts} is too small for a world; ask for at least 10")
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date, tz="UTC") + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=365)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    n_brands = len(BRANDS)
    industries = sorted({b.industry for b in BRANDS})
    brand_industry = np.array([industries.index(b.industry) for b in BRANDS])

    # --- brands -------------------------------------------------------------------------------
    brands = pd.DataFrame({
        "handle": [b.handle for b in BRANDS],
        "name": [b.name for b in BRANDS],
        "industry": [b.industry for b in BRANDS],
        "competitors": [competitors(b) for b in BRANDS],
        "timezone": [b.timezone for b in BRANDS],
        "business_open_hour": [b.open_hour for b in BRANDS],
        "business_close_hour": [b.close_hour for b in BRANDS],
        "business_days": [list(b.business_days) for b in BRANDS],
        "holidays": [[datetime.fromisoformat(d).date() for d in b.holidays] for b in BRANDS],
        "sla_minutes": [b.sla_minutes for b in BRANDS],
        "updated_at": now,
    })

    # --- customers and their share of wallet per brand ------------------------------------------
    n_customers = max(30, posts // 10)
    in_industry = rng.random((n_customers, len(industries))) < 0.55
    in_industry[~in_industry.any(axis=1), 0] = True
    share = np.zeros((n_customers, n_brands))
    for i, _industry in enumerate(industries):
        cols = np.flatnonzero(brand_industry == i)
        weights = np.array([BRANDS[c].weight for c in cols])
        s = rng.dirichlet(weights * 1.2, size=n_customers)
        share[:, cols] = np.where(in_industry[:, [i]], s, 0.0)
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n_customers)]
    last = np.asarray(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n_customers)]
    customer_ids = np.array([f"C{i:07d}" for i in range(n_customers)], dtype=object)
    handles = np.array([f"{fn}_{ln}{i}" for i, (fn, ln) in enumerate(zip(first, last, strict=True))], dtype=object)
    customers = pd.DataFrame({
        "customer_id": customer_ids,
        "social_handle": handles,
        "name": [f"{fn.title()} {ln.title()}" for fn, ln in zip(first, last, strict=True)],
        "created_at": start - pd.to_timedelta(rng.integers(30, 2000, n_customers), unit="D"),
        "updated_at": now,
    })

    # --- conversations: which brand, which day, which kind -------------------------------------
    days = 365
    day_mult = np.ones((n_brands, days))
    weekday = (start.dayofweek + np.arange(days)) % 7
    day_mult *= np.where(weekday >= 5, 0.75, 1.0)
    season = 1.0 + 0.25 * np.sin(np.arange(days) / days * 2 * np.pi)
    day_mult *= season
    incident = np.zeros((n_brands, days), dtype=bool)
    for b in range(n_brands):
        incident[b, rng.choice(days, size=4, replace=False)] = True
    day_mult = np.where(incident, day_mult * 6.0, day_mult)
    cell_p = (np.array([b.weight for b in BRANDS])[:, None] * day_mult).ravel()
    cell_p /= cell_p.sum()
    n_conv = int(posts / 2.1) + 10
    cell = rng.choice(cell_p.size, size=n_conv, p=cell_p)
    conv_brand, conv_day = np.divmod(cell, days)
    conv_incident = incident[conv_brand, conv_day]
    local_hour = np.clip(rng.normal(14, 4.5, n_conv), 0, 23.99)
    local_naive = pd.Series(
        start.tz_localize(None).normalize() + pd.to_timedelta(conv_day, unit="D")
         + pd.to_timedelta((local_hour * 3600).astype(int), unit="s")
    )
    t0 = pd.Series(pd.NaT, index=local_naive.index, dtype="datetime64[ns, UTC]")
    for b, brand in enumerate(BRANDS):
        m = conv_brand == b
        t0[m] = _to_utc(local_naive[m], brand.timezone)
    t0 = t0.fillna(pd.Series(pd.to_datetime(local_naive).dt.tz_localize("UTC")))

    kind = rng.choice(np.array(["complaint", "question", "request", "praise", "foreign"]), size=n_conv,
                      p=[0.55, 0.17, 0.1, 0.16, 0.02])
    kind = np.where(conv_incident & (rng.random(n_conv) < 0.85), "complaint", kind)

    # customer: someone who uses the brand's industry, weighted towards the brand's customers
    conv_customer = np.empty(n_conv, dtype=np.int64)
    for b in range(n_brands):
        m = np.flatnonzero(conv_brand == b)
        pool = np.flatnonzero(share[:, b] > 0)
        w = share[pool, b] + 0.05
        conv_customer[m] = pool[rng.choice(pool.size, size=m.size, p=w / w.sum())]

    # --- service: reply or not, and when -------------------------------------------------------
    resp_rate = np.array([b.response_rate for b in BRANDS])[conv_brand]
    resp_rate = np.where(conv_incident, resp_rate * 0.75, resp_rate)
    resp_rate = np.where(kind == "praise", resp_rate * 0.6, resp_rate)
    resp_rate = np.where(kind == "foreign", resp_rate * 0.5, resp_rate)
    responded = rng.random(n_conv) < resp_rate
    median = np.array([b.median_reply_minutes for b in BRANDS])[conv_brand]
    median = np.where(conv_incident, median * 4, median)
    work_delay = rng.lognormal(np.log(median), 0.9)
    # the crew: who answers each conversation (their own random stream, so the rest of the world draws as before);
    # each agent has a speed and a style (AGENT_SPEED, AGENT_PERSONAL)
    crew = np.random.default_rng([seed, 17])
    conv_agent = crew.integers(0, len(P.AGENTS), n_conv)
    speed = AGENT_SPEED[conv_agent]
    work_delay = work_delay * speed
    local_start = local_naive
    open_at = _next_business_open(local_start, conv_brand)
    wait = (open_at - local_start).dt.total_seconds().fillna(0).to_numpy() / 60
    delay_min = np.where(wait > 0, wait + rng.lognormal(np.log(np.maximum(median / 2, 1)), 0.8) * speed, work_delay)
    t_reply = t0 + pd.to_timedelta(delay_min * 60, unit="s").round("s")
    t_reply = _shift_gaps(t_reply, conv_brand, crew)
    delay_min = ((t_reply - t0).dt.total_seconds() / 60).to_numpy()
    responded &= (t_reply < end).to_numpy()

    # --- thread shape ----------------------------------------------------------------------------
    negative_start = np.isin(kind, ["complaint"])
    has_c1b = negative_start & (rng.random(n_conv) < 0.15)
    t_c1b = t0 + pd.to_timedelta(rng.uniform(60, 1800, n_conv), unit="s").round("s")
    has_c1b &= ~responded | (t_c1b < t_reply).to_numpy()
    wants_more = np.isin(kind, ["complaint", "request", "question"])
    has_c2 = responded & wants_more & (rng.random(n_conv) < np.where(negative_start, 0.7, 0.3))
    t_c2 = t_reply + pd.to_timedelta(rng.lognormal(np.log(25 * 60), 1.0, n_conv), unit="s").round("s")
    has_nag = ~responded & negative_start & (rng.random(n_conv) < 0.3)
    t_nag = t0 + pd.to_timedelta(rng.lognormal(np.log(4 * 3600), 0.7, n_conv), unit="s").round("s")
    has_b2 = has_c2 & (rng.random(n_conv) < 0.85)
    t_b2 = t_c2 + pd.to_timedelta(rng.lognormal(np.log(median * 60), 0.8), unit="s").round("s")
    fast = (delay_min <= np.array([b.sla_minutes for b in BRANDS])[conv_brand])
    recovery = np.array([b.recovery_skill for b in BRANDS])[conv_brand] * np.where(fast, 1.25, 0.8)
    has_c3 = has_b2 & negative_start & (rng.random(n_conv) < 0.8)
    recovered = has_c3 & (rng.random(n_conv) < np.clip(recovery, 0, 0.95))
    t_c3 = t_b2 + pd.to_timedelta(rng.lognormal(np.log(40 * 60), 0.9, n_conv), unit="s").round("s")
    has_c1b_ok, has_nag = has_c1b & (t_c1b < end).to_numpy(), has_nag & (t_nag < end).to_numpy()
    has_c2 &= (t_c2 < end).to_numpy()
    has_b2 &= has_c2 & (t_b2 < end).to_numpy()
    has_c3 &= has_b2 & (t_c3 < end).to_numpy()
    recovered &= has_c3

    # trim conversations so the world has about the posts asked for
    per_conv = 1 + has_c1b_ok + responded + has_c2 + has_nag + has_b2 + has_c3
    keep = np.cumsum(per_conv) <= posts
    keep[0] = True

    # --- posts ------------------------------------------------------------------------------------
    conv_idx = np.flatnonzero(keep)
    brand_handles = [b.handle for b in BRANDS]
    rows: dict[str, list] = {k: [] for k in ("post_id", "parent_post_id", "conversation_id", "author_id",
                                             "author_handle", "is_inbound", "created_at", "text", "lang",
                                             "brand", "like_count")}
    churn_tail = rng.random(n_conv) < 0.1
    escalate = rng.random(n_conv) < 0.035
    viral = escalate | (rng.random(n_conv) < 0.01)
    rng.integers(0, len(P.AGENTS), n_conv)  # (the agent drawn here before the crew had its own stream)
    agents = conv_agent
    langs = ["es", "fr", "de", "pt", "it"]  # the languages of P.NON_ENGLISH, in its order
    spanish = np.random.default_rng([seed, 20])  # Spanish posts come from their own stream: English ones stay as they were
    labels: dict[str, list] = {k: [] for k in ("post_id", "industry", "text", "sentiment", "intent", "category")}

    def add(conv: int, turn: int, parent: str | None, inbound: bool, at: pd.Timestamp, text: str, lang: str) -> str:
        post_id = f"{conv * 8 + turn + 1}"
        rows["post_id"].append(post_id)
        rows["parent_post_id"].append(parent)
        rows["conversation_id"].append(f"{conv * 8 + 1}")
        handle = brand_handles[conv_brand[conv]]
        if inbound:
            rows["author_id"].append(customer_ids[conv_customer[conv]])
            rows["author_handle"].append(handles[conv_customer[conv]])
        else:
            rows["author_id"].append(handle)
            rows["author_handle"].append(handle)
        rows["is_inbound"].append(inbound)
        rows["created_at"].append(at)
        rows["text"].append(text)
        rows["lang"].append(lang)
        rows["brand"].append(handle)
        rows["like_count"].append(int(rng.integers(200, 5000)) if (viral[conv] and turn == 0) else int(rng.poisson(1.5)))
        return post_id

    t0_l, t_reply_l, t_c1b_l, t_c2_l, t_nag_l, t_b2_l, t_c3_l = (
        s.tolist() for s in (t0, t_reply, t_c1b, t_c2, t_nag, t_b2, t_c3))
    for c in conv_idx:
        b = BRANDS[conv_brand[c]]
        industry = b.industry
        at = "@" + b.handle + " "
        name = first[conv_customer[c]].title()
        k = kind[c]
        if k == "complaint":
            cats = list(P.CORES[industry])
            cat = cats[rng.integers(len(cats))]
            if conv_incident[c]:
                cat = {"airline": "delay", "telecom": "outage", "ecommerce": "delivery_delay"}[industry] if rng.random() < 0.7 else cat
            core = _fill(P.CORES[industry][cat][rng.integers(len(P.CORES[industry][cat]))], rng)
            opener = P.OPENERS_NEG[rng.integers(len(P.OPENERS_NEG))]
            text = opener + (core if opener.endswith(", ") else core[0].upper() + core[1:]) + "."
            text += P.TAILS_NEG[rng.integers(len(P.TAILS_NEG))]
            if churn_tail[c]:
                comp = competitors(b)
                text += _fill(P.CHURN_TAILS[rng.integers(len(P.CHURN_TAILS))], rng,
                              competitor="@" + comp[rng.integers(len(comp))])
            if escalate[c]:
                text += P.ESCALATION_TAILS[rng.integers(len(P.ESCALATION_TAILS))]
            text += P.HASHTAGS_NEG[rng.integers(len(P.HASHTAGS_NEG))] + P.EMOJI_NEG[rng.integers(len(P.EMOJI_NEG))]
            lang = "en"
        elif k in ("question", "request"):
            bank = P.QUESTIONS if k == "question" else P.REQUESTS
            core = _fill(bank[industry][rng.integers(len(bank[industry]))], rng)
            text = P.OPENERS_NEU[rng.integers(len(P.OPENERS_NEU))] + core + P.TAILS_NEU[rng.integers(len(P.TAILS_NEU))]
            lang = "en"
        elif k == "praise":
            core = _fill(P.PRAISE[industry][rng.integers(len(P.PRAISE[industry]))], rng)
            text = core[0].upper() + core[1:] + "!" + P.TAILS_POS[rng.integers(len(P.TAILS_POS))]
            text += P.EMOJI_POS[rng.integers(len(P.EMOJI_POS))]
            lang = "en"
        else:
            which = int(rng.integers(len(P.NON_ENGLISH)))
            text = _fill(P.NON_ENGLISH[which], rng)
            rng.integers(len(langs))  # (the language was drawn apart from the text before; the text's own is kept)
            lang = langs[which]
            if lang == "es":
                bank = P.SPANISH[industry]
                text, sentiment, intent, category = bank[spanish.integers(len(bank))]
                text = _fill(text, spanish)
                for key, value in zip(labels, (f"{c * 8 + 1}", industry, at + text, sentiment, intent, category),
                                      strict=True):
                    labels[key].append(value)
        root = add(c, 0, None, True, t0_l[c], at + text, lang)
        last_customer = root
        if has_c1b_ok[c]:
            last_customer = add(c, 1, root, True, t_c1b_l[c], at + P.FOLLOWUPS_NEG[rng.integers(len(P.FOLLOWUPS_NEG))], "en")
        if has_nag[c]:
            add(c, 2, last_customer, True, t_nag_l[c], at + P.FOLLOWUPS_NEG[rng.integers(len(P.FOLLOWUPS_NEG))], "en")
        if not responded[c]:
            continue
        sig = " " + P.AGENTS[agents[c]]
        bank = {"complaint": P.BRAND_FIRST, "praise": P.BRAND_THANKS}.get(k, P.BRAND_ANSWER)
        reply = f"@{handles[conv_customer[c]]} " + bank[rng.integers(len(bank))].format(name=name) + sig
        if k == "complaint" and AGENT_PERSONAL[agents[c]]:
            # an agent who writes their own replies: the customer's issue in their words, no template
            issue = re.sub(r"\bmy\b", "your", re.sub(r"\bI\b", "you", core.rstrip(".")), flags=re.IGNORECASE)
            reply = (f"@{handles[conv_customer[c]]} {name}, so sorry about this: {issue}. "
                     f"{P.PERSONAL_NEXT[crew.integers(len(P.PERSONAL_NEXT))]}{sig}")
        b1 = add(c, 3, last_customer, False, t_reply_l[c], reply, "en")
        if not has_c2[c]:
            continue
        follow = _fill(P.FOLLOWUPS_MORE[rng.integers(len(P.FOLLOWUPS_MORE))], rng)
        c2 = add(c, 4, b1, True, t_c2_l[c], at + follow, "en")
        if not has_b2[c]:
            continue
        b2 = add(c, 5, c2, False, t_b2_l[c], f"@{handles[conv_customer[c]]} "
                 + P.BRAND_FOLLOWUP[rng.integers(len(P.BRAND_FOLLOWUP))].format(name=name) + sig, "en")
        if has_c3[c]:
            bank = P.RECOVERED if recovered[c] else P.NOT_RECOVERED
            add(c, 6, b2, True, t_c3_l[c], at + bank[rng.integers(len(bank))].format(agent=P.AGENTS[agents[c]].strip("-^")), "en")

    posts_df = pd.DataFrame(rows)
    posts_df["created_at"] = pd.to_datetime(posts_df["created_at"], utc=True)

    # --- orders, with churn after bad service -----------------------------------------------------
    kept = conv_idx
    month_of = ((t0.iloc[kept] - start).dt.days // 30.42).clip(0, 11).astype(int).to_numpy()
    experience_churn = np.select(
        [~responded[kept], recovered[kept], kind[kept] == "praise", ~fast[kept]],
        [0.38, 0.04, 0.02, 0.22], default=0.10)
    experience_churn = np.where(np.isin(kind[kept], ["question", "request", "foreign"]) & responded[kept],
                                0.05, experience_churn)
    churned = rng.random(kept.size) < experience_churn
    churn_month = np.full((n_customers, n_brands), 99)
    np.minimum.at(churn_month, (conv_customer[kept][churned], conv_brand[kept][churned]), month_of[churned] + 1)
    cust_i, brand_i = np.nonzero(share > 0.02)
    rate = np.array([INDUSTRY_ORDERS_PER_MONTH[BRANDS[b].industry] for b in brand_i]) * share[cust_i, brand_i] * 2.2
    counts = rng.poisson(rate[:, None], size=(rate.size, 12))
    counts[np.arange(12)[None, :] >= churn_month[cust_i, brand_i][:, None]] = 0
    pair, month = np.nonzero(counts)
    reps = counts[pair, month]
    pair, month = np.repeat(pair, reps), np.repeat(month, reps)
    mu_sigma = np.array([INDUSTRY_ORDER_VALUE[BRANDS[b].industry] for b in brand_i[pair]])
    amount = np.round(rng.lognormal(mu_sigma[:, 0], mu_sigma[:, 1]), 2)
    ordered_at = start + pd.to_timedelta(month * 30.42 + rng.uniform(0, 30.4, month.size), unit="D")
    orders = pd.DataFrame({
        "order_id": [f"O{i:09d}" for i in range(pair.size)],
        "customer_id": customer_ids[cust_i[pair]],
        "brand": np.asarray(brand_handles, dtype=object)[brand_i[pair]],
        "industry": np.asarray([BRANDS[b].industry for b in brand_i[pair]], dtype=object),
        "ordered_at": pd.Series(ordered_at).dt.round("s"),
        "amount": amount,
        "currency": "USD",
        "updated_at": now,
    })
    orders = orders[orders["ordered_at"] < end].reset_index(drop=True)
    world = SampleWorld(brands=brands, customers=customers, orders=orders, posts=posts_df,
                        labels=pd.DataFrame(labels, dtype=object))
    _audience(world, np.random.default_rng([seed, 18]), end, customer_ids, conv_idx, conv_customer,
              kind, responded, t0, t_reply, viral)
    experience = np.select([recovered, ~responded, responded & fast], ["recovered", "ignored", "answered fast"],
                           "answered slow")
    experience = np.where((kind == "praise") & responded, "answered fast", experience)
    _surveys(world, np.random.default_rng([seed, 19]), start, end, share, conv_idx, conv_customer, conv_brand, t0,
             experience, kind)
    return world


# A respondent's score: normal around a mean set by their last service on social within 90 days (none: "none")
SURVEY_SCORE_MEAN = {"none": 7.2, "answered fast": 7.9, "answered slow": 6.0, "ignored": 3.8, "recovered": 8.9}
SURVEY_SCORE_SD = 2.0
SURVEY_PROMOTER_COMMENTS = ["Always a pleasure.", "Quick and friendly, as usual.", "Great value and great people.",
                            "They fixed my problem fast.", "Never had a problem.", "Best in the business."]
SURVEY_PASSIVE_COMMENTS = ["It was fine.", "OK overall, a bit slow.", "Nothing special.", "Decent, could be cheaper.",
                           "Fine once it worked."]
SURVEY_TOUCHPOINTS = ["order", "support_call", "delivery", "app", "store"]


def _surveys(world: SampleWorld, rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp,
             share: np.ndarray, conv_idx: np.ndarray, conv_customer: np.ndarray, conv_brand: np.ndarray,
             t0: pd.Series, experience: np.ndarray, kind: np.ndarray) -> None:
    """NPS answers of the brands' customers (see the module doc), and follow-ups of part of the detractors."""
    customers = world.customers
    ids, handles = customers["customer_id"].to_numpy(), customers["social_handle"].to_numpy()
    emails = np.array([f"{h.replace('_', '.')}@example.com" for h in handles], dtype=object)
    # every conversation kept, by customer and brand, to find the last one before a survey
    talks = pd.DataFrame({"customer": conv_customer[conv_idx], "brand": conv_brand[conv_idx],
                          "at": t0.iloc[conv_idx].to_numpy(), "experience": experience[conv_idx],
                          "kind": kind[conv_idx]}).sort_values("at")
    cust_i, brand_i = np.nonzero(share > 0.02)
    surveys_per_pair = rng.poisson(0.5, cust_i.size)
    pair = np.repeat(np.arange(cust_i.size), surveys_per_pair)
    span = (end - start - pd.Timedelta(days=30)).total_seconds()
    at = start + pd.Timedelta(days=30) + pd.to_timedelta(rng.uniform(0, span, pair.size), unit="s")
    answers = pd.DataFrame({"customer": cust_i[pair], "brand": brand_i[pair], "at": at.round("s")}).sort_values("at")
    answers = pd.merge_asof(answers, talks.rename(columns={"at": "talk_at"}), left_on="at", right_on="talk_at",
                            by=["customer", "brand"], direction="backward", tolerance=pd.Timedelta(days=90))
    answers["experience"] = answers["experience"].fillna("none")
    answers["score"] = np.clip(np.round(rng.normal(answers["experience"].map(SURVEY_SCORE_MEAN), SURVEY_SCORE_SD)),
                               0, 10).astype(int)
    # part of the detractors are contacted (and most of those closed) by the brand's team
    n = len(answers)
    detractor = (answers["score"] <= 6).to_numpy()
    contacted = detractor & (rng.random(n) < 0.65)
    closed = contacted & (rng.random(n) < 0.8)
    contacted_at = answers["at"] + pd.to_timedelta(rng.lognormal(np.log(30), 0.9, n), unit="h")
    closed_at = contacted_at + pd.to_timedelta(rng.lognormal(np.log(72), 0.8, n), unit="h")
    # some customers answer again weeks later: a detractor whose loop was closed mostly comes round
    again = answers[rng.random(n) < np.where(detractor, 0.45, 0.1)].copy()
    closed_first = closed[answers.index.get_indexer(again.index)]
    contacted_first = contacted[answers.index.get_indexer(again.index)]
    mean = np.where(closed_first, 8.0, np.where(contacted_first, 6.0, again["experience"].map(SURVEY_SCORE_MEAN)))
    again["score"] = np.clip(np.round(rng.normal(mean, np.where(closed_first, 1.3, SURVEY_SCORE_SD))), 0, 10).astype(int)
    again["at"] = (again["at"] + pd.to_timedelta(rng.uniform(20, 60, len(again)), unit="D")).dt.round("s")
    keep_again = (again["at"] < end).to_numpy()
    answers = answers.assign(contacted=contacted, closed=closed, contacted_at=contacted_at, closed_at=closed_at)
    again = again[keep_again].assign(contacted=False, closed=False, contacted_at=pd.NaT, closed_at=pd.NaT)
    answers = pd.concat([answers, again], ignore_index=True).sort_values(["at", "customer"], kind="stable")
    answers = answers.reset_index(drop=True)
    answers["response_id"] = [f"R{i:07d}" for i in range(len(answers))]
    answers = answers.astype({"contacted": bool, "closed": bool})
    answers["contacted_at"] = pd.to_datetime(answers["contacted_at"], utc=True)
    answers["closed_at"] = pd.to_datetime(answers["closed_at"], utc=True)
    brands = [b.handle for b in BRANDS]
    comments = []
    for row in answers.itertuples():
        industry = BRANDS[row.brand].industry
        if rng.random() < 0.25:
            comments.append(None)
        elif row.score <= 6:
            cats = list(P.CORES[industry])
            bank = P.CORES[industry][cats[rng.integers(len(cats))]]
            core = _fill(bank[rng.integers(len(bank))], rng)
            comments.append(core[0].upper() + core[1:] + ".")
        elif row.score <= 8:
            comments.append(SURVEY_PASSIVE_COMMENTS[rng.integers(len(SURVEY_PASSIVE_COMMENTS))])
        else:
            core = _fill(P.PRAISE[industry][rng.integers(len(P.PRAISE[industry]))], rng)
            comments.append(SURVEY_PROMOTER_COMMENTS[rng.integers(len(SURVEY_PROMOTER_COMMENTS))] + " "
                            + core[0].upper() + core[1:] + ".")
    # who answered: the CRM id for most, only a handle or only an e-mail address for the rest
    how = rng.choice(np.array(["id", "handle", "email"]), len(answers), p=[0.7, 0.2, 0.1])
    recent = answers["talk_at"].notna() & ((answers["at"] - answers["talk_at"]) < pd.Timedelta(days=7))
    touchpoint = np.where(recent & (rng.random(len(answers)) < 0.6), "social_reply",
                          np.asarray(SURVEY_TOUCHPOINTS, dtype=object)[rng.integers(0, 5, len(answers))])
    world.surveys = pd.DataFrame({
        "response_id": answers["response_id"],
        "brand": np.asarray(brands, dtype=object)[answers["brand"]],
        "respondent_id": np.where(how == "id", ids[answers["customer"]], None),
        "social_handle": np.where(how == "handle", handles[answers["customer"]], None),
        "email": np.where(how == "email", emails[answers["customer"]], None),
        "score": answers["score"],
        "comment": comments,
        "responded_at": answers["at"],
        "touchpoint": touchpoint,
        "experience": answers["experience"],  # what the generator meant (not a survey column: not loaded)
    })
    world.customers = customers.assign(email_hash=[email_hash(e) for e in emails])
    followed = answers[answers["contacted"] & (answers["contacted_at"] < end)]
    world.followups = pd.DataFrame({
        "response_id": followed["response_id"],
        "contacted_at": followed["contacted_at"].dt.round("s"),
        "closed_at": followed["closed_at"].where(followed["closed"] & (followed["closed_at"] < end)).dt.round("s"),
        "team": None,
        "note": None,
    }).reset_index(drop=True)


def _audience(world: SampleWorld, rng: np.random.Generator, end: pd.Timestamp, customer_ids: np.ndarray,
              conv_idx: np.ndarray, conv_customer: np.ndarray, kind: np.ndarray, responded: np.ndarray,
              t0: pd.Series, t_reply: pd.Series, viral: np.ndarray) -> None:
    """Authors with heavy-tailed audiences, and each opening post's engagement as it grew (see the module doc)."""
    n = customer_ids.size
    # Pareto (Lomax) with shape 1.2: median about 47 followers, a long tail of accounts with tens of thousands
    followers = np.minimum((rng.pareto(1.2, n) * 60).astype(np.int64), 5_000_000)
    following = np.round(rng.lognormal(5.3, 0.9, n)).astype(np.int64)
    brand_followers = np.round(rng.lognormal(11.5, 0.6, len(BRANDS))).astype(np.int64)
    world.authors = pd.DataFrame({
        "author_id": list(customer_ids) + [b.handle for b in BRANDS],
        "handle": list(world.customers["social_handle"]) + [b.handle for b in BRANDS],
        "display_name": list(world.customers["name"]) + [b.name for b in BRANDS],
        "followers_count": np.concatenate([followers, brand_followers]),
        "following_count": np.concatenate([following, np.round(rng.lognormal(6, 0.5, len(BRANDS))).astype(np.int64)]),
        "is_verified": np.concatenate([followers >= 100_000, np.ones(len(BRANDS), dtype=bool)]),
    })

    # each kept conversation's opening post: an engagement rate proportional to its author's audience, decaying
    # with time, UNANSWERED_BOOST times faster while a complaint waits for its first reply
    root_ids = np.array([f"{c * 8 + 1}" for c in conv_idx], dtype=object)
    world.conversations = pd.DataFrame({"conversation_id": root_ids, "kind": kind[conv_idx]})
    fol = followers[conv_customer[conv_idx]].astype(float)
    rate0 = ENGAGEMENT_PER_FOLLOWER * (fol + 20) * np.where(viral[conv_idx], 40.0, 1.0)
    complaint = kind[conv_idx] == "complaint"
    start = t0.iloc[conv_idx].reset_index(drop=True)
    reply_h = np.where(responded[conv_idx],
                       ((t_reply.iloc[conv_idx].reset_index(drop=True) - start).dt.total_seconds() / 3600).to_numpy(),
                       np.inf)
    tau = ENGAGEMENT_DECAY_HOURS
    boost = np.where(complaint, UNANSWERED_BOOST, 1.0)

    def expected(hours: float) -> np.ndarray:
        r = np.minimum(hours, reply_h)
        return rate0 * tau * (boost * (1 - np.exp(-r / tau)) + (np.exp(-r / tau) - np.exp(-hours / tau)))

    metrics, shares = [], []
    totals = np.zeros((conv_idx.size, 4), dtype=np.int64)  # likes, reposts, replies, quotes
    previous = np.zeros(conv_idx.size)
    known_sharers: list[set] = [set() for _ in range(conv_idx.size)]
    for hours in OBSERVED_AFTER_HOURS:
        at = start + pd.Timedelta(hours=hours)
        seen = (at < end).to_numpy()
        mean = expected(hours)
        grown = rng.poisson(np.maximum(mean - previous, 0)) * seen
        previous = np.where(seen, mean, previous)
        # of every 100 engagements: 72 likes, 18 reposts, 5 replies, 5 quotes
        # (a multinomial split, drawn as a chain of binomials so it is vectorised)
        likes = rng.binomial(grown, 0.72)
        reposts = rng.binomial(grown - likes, 0.18 / 0.28)
        replies = rng.binomial(grown - likes - reposts, 0.5)
        increment = np.stack([likes, reposts, replies, grown - likes - reposts - replies], axis=1)
        totals += increment
        observed = np.flatnonzero(seen & (totals.sum(axis=1) > 0))
        for i in observed:
            metrics.append((root_ids[i], at.iloc[i], *totals[i]))
            for share_kind, count in (("repost", increment[i, 1]), ("quote", increment[i, 3])):
                for _ in range(int(count)):
                    if len(known_sharers[i]) >= MAX_KNOWN_SHARERS:
                        break
                    sharer = customer_ids[rng.integers(n)]
                    if sharer == customer_ids[conv_customer[conv_idx[i]]] or sharer in known_sharers[i]:
                        continue
                    known_sharers[i].add(sharer)
                    moment = at.iloc[i] - pd.Timedelta(minutes=float(rng.uniform(1, 25)))
                    shares.append((root_ids[i], sharer, share_kind, moment.round("s")))
    world.metrics = pd.DataFrame(metrics, columns=["post_id", "observed_at", "like_count", "repost_count",
                                                   "reply_count", "quote_count"])
    world.shares = pd.DataFrame(shares, columns=["post_id", "author_id", "kind", "shared_at"])
    # the posts carry their last observed counts, as a network's post view does
    last = dict(zip(root_ids, totals.tolist(), strict=True))
    posts = world.posts
    is_root = posts["post_id"].isin(last.keys())
    counts = posts.loc[is_root, "post_id"].map(last)
    posts.loc[is_root, "like_count"] = counts.map(lambda t: t[0]).astype(int)
    posts["repost_count"] = 0
    posts.loc[is_root, "repost_count"] = counts.map(lambda t: t[1]).astype(int)
