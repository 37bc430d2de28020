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
  after a complaint was recovered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from extractors.sample import phrases as P
from extractors.sample.world import BRANDS, INDUSTRY_ORDER_VALUE, INDUSTRY_ORDERS_PER_MONTH, competitors

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
    local_start = local_naive
    open_at = _next_business_open(local_start, conv_brand)
    wait = (open_at - local_start).dt.total_seconds().fillna(0).to_numpy() / 60
    delay_min = np.where(wait > 0, wait + rng.lognormal(np.log(np.maximum(median / 2, 1)), 0.8), work_delay)
    t_reply = t0 + pd.to_timedelta(delay_min * 60, unit="s").round("s")
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
    agents = rng.integers(0, len(P.AGENTS), n_conv)
    langs = ["es", "fr", "de", "pt", "it"]

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
            text = _fill(P.NON_ENGLISH[rng.integers(len(P.NON_ENGLISH))], rng)
            lang = langs[rng.integers(len(langs))]
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
    return SampleWorld(brands=brands, customers=customers, orders=orders, posts=posts_df)
