"""Every table the pipeline owns outside dbt, in one place.

``socialcx.core.warehouse.open_warehouse`` creates what is missing each time it opens the working file, so
every stage, extract and test finds the same tables whatever ran first. dbt owns ``staging``,
``intermediate`` and ``marts``; the pipeline owns the rest:

- ``raw``: what the extractors loaded, merged on natural keys, with their cursors, quarantine and file ledger,
  the authors' audiences and the history of each post's engagement, survey answers and their follow-ups;
- ``enriched``: what the NLP stage annotated;
- ``ops``: run bookkeeping, validation results, the fingerprint of validated marts, alert deliveries and the
  erasure register.

A new table goes here, never in the module that writes it. A column added to an existing table needs an
``alter table ... add column if not exists`` below its ``create``, so existing warehouses follow.
"""

from __future__ import annotations

SCHEMAS = ("raw", "enriched", "staging", "intermediate", "marts", "ops")

# raw: rows as the extractors loaded them
RAW = """
create table if not exists raw.posts (
    source              varchar not null,
    post_id             varchar not null,
    parent_post_id      varchar,
    conversation_id     varchar,
    author_id           varchar not null,
    author_handle       varchar,
    brands_mentioned    varchar[],
    is_inbound          boolean not null,
    created_at          timestamptz not null,
    text                varchar not null,
    lang                varchar,
    like_count          integer,
    reply_count         integer,
    repost_count        integer,
    is_deleted          boolean not null default false,
    updated_at          timestamptz not null,
    ingested_at         timestamptz not null,
    run_id              varchar not null,
    primary key (source, post_id)
);
create table if not exists raw.brands (
    handle              varchar primary key,
    name                varchar not null,
    industry            varchar not null,
    competitors         varchar[],
    timezone            varchar not null,
    business_open_hour  integer not null,
    business_close_hour integer not null,
    business_days       integer[] not null,
    holidays            date[],
    sla_minutes         integer not null,
    updated_at          timestamptz not null
);
create table if not exists raw.customers (
    source              varchar not null,
    customer_id         varchar not null,
    social_handle       varchar,
    name                varchar,
    created_at          timestamptz,
    updated_at          timestamptz not null,
    run_id              varchar not null,
    primary key (source, customer_id)
);
alter table raw.customers add column if not exists email_hash varchar;  -- socialcx.core.pii.email_hash
create table if not exists raw.orders (
    source              varchar not null,
    order_id            varchar not null,
    customer_id         varchar not null,
    brand               varchar not null,
    industry            varchar,
    ordered_at          timestamptz not null,
    amount              decimal(12, 2) not null,
    currency            varchar not null default 'USD',
    updated_at          timestamptz not null,
    run_id              varchar not null,
    primary key (source, order_id)
);
create table if not exists raw.extract_state (
    source              varchar not null,
    stream              varchar not null,
    cursor_value        varchar,
    updated_at          timestamptz not null,
    run_id              varchar not null,
    primary key (source, stream)
);
create table if not exists raw.text_expired (
    source              varchar not null,
    post_id             varchar not null,
    expired_at          timestamptz not null,
    primary key (source, post_id)
);
create table if not exists raw.quarantine (
    source              varchar not null,
    record              varchar not null,
    reason              varchar not null,
    run_id              varchar not null,
    quarantined_at      timestamptz not null
);
create table if not exists raw.file_loads (
    source      varchar not null,
    path        varchar not null,
    checksum    varchar not null,
    rows_read   bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    loaded_at   timestamptz not null,
    run_id      varchar not null,
    primary key (source, path, checksum)
);
"""

# authors as the networks describe them, and each post's engagement as observed over time (its growth)
AUDIENCE = """
create table if not exists raw.authors (
    source              varchar not null,
    author_id           varchar not null,      -- as raw.posts.author_id
    handle              varchar,
    display_name        varchar,
    followers_count     bigint,
    following_count     bigint,
    is_verified         boolean,
    updated_at          timestamptz not null,
    run_id              varchar not null,
    primary key (source, author_id)
);
create table if not exists raw.post_metrics (
    source              varchar not null,
    post_id             varchar not null,
    observed_at         timestamptz not null,
    like_count          bigint,
    repost_count        bigint,
    reply_count         bigint,
    quote_count         bigint,
    run_id              varchar not null,
    primary key (source, post_id, observed_at)
);
create table if not exists raw.post_shares (
    source              varchar not null,
    post_id             varchar not null,      -- the post shared (raw.posts)
    author_id           varchar not null,      -- who reposted or quoted it (raw.authors, when described)
    kind                varchar not null,      -- 'repost' or 'quote'
    shared_at           timestamptz,
    run_id              varchar not null,
    primary key (source, post_id, author_id, kind)
);
-- when each observation and share was loaded: the incremental marts that read them (mart_amplification) find
-- what a run brought for old posts by it; null for rows loaded before the column existed
alter table raw.post_metrics add column if not exists loaded_at timestamptz;
alter table raw.post_shares add column if not exists loaded_at timestamptz;
"""

# Which brand a post belongs to, defined once: an inbound post belongs to the first brand it mentions, a
# brand's own post to the brand. The enrich stage (taxonomy per industry) and dbt (stg_raw__posts) both read it.
POST_BRAND = """
create view if not exists raw.posts_with_brand as
select *, case when is_inbound then brands_mentioned[1] else author_id end as brand
from raw.posts;
"""

# enriched: the NLP stage's output, one row per post and pipeline version
# The owned feedback channel: survey answers (NPS) and the follow-ups that close the loop with detractors
FEEDBACK = """
create table if not exists raw.survey_responses (
    source              varchar not null,
    response_id         varchar not null,
    brand               varchar not null,
    respondent_id       varchar,               -- the CRM customer id, where the survey knows it
    social_handle       varchar,
    email_hash          varchar,               -- socialcx.core.pii.email_hash; the address is never stored
    score               integer not null,      -- 0-10
    comment             varchar,
    responded_at        timestamptz not null,
    touchpoint          varchar,
    content_hash        varchar not null,      -- a re-delivered response with other content is quarantined
    ingested_at         timestamptz not null,
    run_id              varchar not null,
    primary key (source, response_id)
);
create table if not exists raw.survey_followups (
    source              varchar not null,
    response_id         varchar not null,
    contacted_at        timestamptz,
    closed_at           timestamptz,
    team                varchar,
    note                varchar,
    updated_at          timestamptz not null,
    run_id              varchar not null,
    primary key (source, response_id)
);
"""

ENRICHED = """
create table if not exists enriched.post_nlp (
    source               varchar not null,
    post_id              varchar not null,
    pipeline_version     varchar not null,
    text_hash            varchar not null,
    industry             varchar not null,
    lang                 varchar,
    is_english           boolean not null,
    text_redacted        varchar not null,
    pii_kinds            varchar[],
    sentiment_label      varchar,
    sentiment_score      double,
    sentiment_confidence double,
    categories           varchar[],
    primary_category     varchar,
    intent               varchar,
    is_churn_threat      boolean not null,
    is_legal_safety      boolean not null,
    is_public_shaming    boolean not null,
    urgency              varchar not null,
    enriched_at          timestamptz not null,
    primary key (source, post_id, pipeline_version)
);
-- brand-defined topics (nlp/topics.py): matched after enrichment, re-matched when a topic file changes
alter table enriched.post_nlp add column if not exists topics varchar[];
alter table enriched.post_nlp add column if not exists topics_version varchar;
create table if not exists enriched.survey_nlp (
    source               varchar not null,
    response_id          varchar not null,
    pipeline_version     varchar not null,
    text_hash            varchar not null,
    lang                 varchar,
    comment_redacted     varchar not null,
    sentiment_label      varchar,
    sentiment_score      double,
    categories           varchar[],
    primary_category     varchar,
    enriched_at          timestamptz not null,
    primary key (source, response_id, pipeline_version)
);
"""

# ops: the pipeline's own bookkeeping
OPS = """
create table if not exists ops.runs (
    run_id              varchar not null,
    stage               varchar not null,
    started_at          timestamptz not null,
    finished_at         timestamptz,
    status              varchar not null,
    rows_read           bigint,
    rows_loaded         bigint,
    rows_quarantined    bigint,
    detail              varchar
);
create table if not exists ops.validation_results (
    run_id          varchar not null,
    validated_at    timestamptz not null,
    suite           varchar not null,
    severity        varchar not null,
    expectation     varchar not null,
    column_name     varchar,
    success         boolean not null,
    observed_value  varchar,
    unexpected_count bigint,
    element_count   bigint
);
create table if not exists ops.validated_marts (
    run_id          varchar not null,
    table_name      varchar not null,
    row_count       bigint not null,
    checksum        varchar not null,
    validated_at    timestamptz not null
);
-- the newest passing validation's fingerprint of each mart per day (publish's days.json), for publish to reuse
-- while the file is as that validation left it (socialcx/serving/publish.py)
create table if not exists ops.validated_days (
    run_id          varchar not null,
    record          varchar not null,      -- JSON: the time zone, and per mart its day column and days
    validated_at    timestamptz not null
);
create table if not exists ops.validation_digests (
    suite           varchar not null,
    partition_key   varchar not null,
    row_count       bigint not null,
    digest          varchar not null,
    signature       varchar not null,
    run_id          varchar not null,
    validated_at    timestamptz not null,
    primary key (suite, partition_key)
);
-- how far the posts had gone when a run of each pipeline version ended, every one up to it enriched: the next run
-- looks for pending posts from there; and when a run last read every post (nlp/enrich.py, enriched_up_to)
create table if not exists ops.enrich_marks (
    pipeline_version varchar primary key,
    posts_up_to     timestamptz not null,
    all_read_at     timestamptz not null
);
create table if not exists ops.full_validations (
    run_id          varchar not null,
    validated_at    timestamptz not null
);
create table if not exists ops.alert_deliveries (
    alert_key varchar not null,
    channel varchar not null,
    kind varchar not null,
    brand varchar,
    message varchar,
    run_id varchar,
    sent_at timestamptz not null,
    primary key (alert_key, channel)
);
create table if not exists ops.erasure_requests (
    request_id      varchar primary key,
    kind            varchar not null,      -- author | post
    requested_at    timestamptz not null,
    identifiers     integer not null,      -- how many hashed identifiers it registered
    status          varchar not null,      -- pending (not yet re-published) | complete
    completed_at    timestamptz
);
create table if not exists ops.nlp_models (
    promotion       integer primary key,   -- 1, 2, ... in the order of promotion
    model_version   varchar not null,      -- the pipeline version enriched.post_nlp rows carry
    model_dir       varchar not null,      -- absolute path of the model directory, or 'default' (the rules)
    data_sha256     varchar,               -- SHA-256 of the file the model was trained on
    figures         varchar,               -- JSON: the held-out figures nlp train measured
    promoted_at     timestamptz not null,
    rolled_back_at  timestamptz
);
create table if not exists ops.erasure_identifiers (
    hash            varchar not null,      -- sha256 of the normalised identifier, never the identifier
    kind            varchar not null,      -- person (id, handle, customer id, e-mail) | name | first_name | post
    request_id      varchar not null,
    primary key (hash, kind)
);
"""

ALL = RAW + AUDIENCE + FEEDBACK + POST_BRAND + ENRICHED + OPS
