"""The sample world's conversations shaped as the Mastodon and Bluesky APIs return them.

So the fixtures behind the Mastodon and Bluesky mocks are generated, not hand-copied: one brand's conversations
become Mastodon ``Status`` entities (HTML ``content`` with h-card mentions, snowflake ids that grow with time,
``in_reply_to_id``, counts) or Bluesky post views (AT URIs, ``record.reply.parent/root``, mention facets, counts).
A test serves them from the mocks and checks that the source loads the same conversations the sample source does.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC
from typing import Any

import pandas as pd

from extractors.sample.generator import SampleWorld

LEADING_MENTIONS = re.compile(r"^((?:@\w+\s+)*)")
MENTION = re.compile(r"@(\w+)")


def _brand_posts(world: SampleWorld, brand: str) -> pd.DataFrame:
    posts = world.posts[world.posts["brand"] == brand].copy()
    posts["created_at"] = pd.to_datetime(posts["created_at"], utc=True)
    return posts.sort_values(["created_at", "post_id"], kind="stable")


def _stamp(moment: pd.Timestamp) -> str:
    return moment.tz_convert(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def mastodon(world: SampleWorld, brand: str, domain: str = "sample.social") -> dict[str, Any]:
    """``{"me": account, "statuses": [Status, ...]}`` for ``brand``'s conversations, oldest first."""
    accounts: dict[str, dict[str, Any]] = {}

    def account(handle: str) -> dict[str, Any]:
        if handle not in accounts:
            number = int(hashlib.sha256(handle.encode()).hexdigest()[:12], 16)
            accounts[handle] = {"id": str(number), "username": handle, "acct": handle, "display_name": handle,
                                "url": f"https://{domain}/@{handle}", "followers_count": number % 5000,
                                "created_at": "2022-01-01T00:00:00.000Z", "note": "", "emojis": [], "fields": []}
        return accounts[handle]

    posts = _brand_posts(world, brand)
    by_id = dict(zip(posts["post_id"].astype(str), posts["author_handle"].astype(str), strict=True))
    ids: dict[str, str] = {}
    statuses = []
    for sequence, row in enumerate(posts.itertuples(index=False)):
        status_id = str((int(row.created_at.timestamp() * 1000) << 16) + sequence % 65536)
        ids[str(row.post_id)] = status_id
        lead = LEADING_MENTIONS.match(row.text).group(1)
        handles = MENTION.findall(lead)
        parent_author = by_id.get(str(row.parent_post_id))
        if parent_author == brand and row.author_handle != brand and brand not in handles:
            handles.insert(0, brand)  # a reply mentions whom it answers, as Mastodon's clients write it
        cards = "".join(f'<span class="h-card" translate="no"><a href="https://{domain}/@{html.escape(h)}" '
                        f'class="u-url mention">@<span>{html.escape(h)}</span></a></span> ' for h in handles)
        parent = ids.get(str(row.parent_post_id)) if pd.notna(row.parent_post_id) else None
        author = account(str(row.author_handle))
        statuses.append({
            "id": status_id, "created_at": _stamp(row.created_at), "in_reply_to_id": parent,
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
            "language": row.lang, "uri": f"https://{domain}/users/{author['username']}/statuses/{status_id}",
            "url": f"https://{domain}/@{author['username']}/{status_id}", "replies_count": 0, "reblogs_count": 0,
            "favourites_count": int(row.like_count or 0), "edited_at": None,
            "content": f"<p>{cards}{html.escape(row.text[len(lead):])}</p>", "reblog": None, "account": author,
            "mentions": [{"id": account(h)["id"], "username": h, "acct": h, "url": account(h)["url"]} for h in handles],
            "media_attachments": [], "tags": [], "emojis": [], "card": None, "poll": None})
    return {"me": account(brand), "statuses": statuses}


def bluesky(world: SampleWorld, brand: str, domain: str = "bsky.social") -> dict[str, Any]:
    """``{"me": profile, "posts": [post view, ...]}`` for ``brand``'s conversations, oldest first; handles
    become ``<handle>.<domain>``."""
    actors: dict[str, dict[str, Any]] = {}

    def actor(handle: str) -> dict[str, Any]:
        if handle not in actors:
            number = hashlib.sha256(handle.encode()).hexdigest()[:24]
            actors[handle] = {"did": f"did:plc:{number}", "handle": f"{handle.lower()}.{domain}",
                              "displayName": handle, "labels": []}
        return actors[handle]

    views: dict[str, dict[str, Any]] = {}
    uris: dict[str, str] = {}
    for sequence, row in enumerate(_brand_posts(world, brand).itertuples(index=False)):
        author = actor(str(row.author_handle))
        uri = f"at://{author['did']}/app.bsky.feed.post/3s{sequence:011d}"
        uris[str(row.post_id)] = uri
        text = MENTION.sub(lambda m: f"@{actor(m.group(1))['handle']}", row.text)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _stamp(row.created_at),
                                  "langs": [row.lang]}
        facets = []
        for handle in dict.fromkeys(MENTION.findall(row.text)):  # a mention facet per @handle, as clients write it
            target = actor(handle)
            at = text.find(f"@{target['handle']}")
            while at >= 0:
                start = len(text[:at].encode())
                facets.append({"index": {"byteStart": start, "byteEnd": start + len(target["handle"].encode()) + 1},
                               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target["did"]}]})
                at = text.find(f"@{target['handle']}", at + 1)
        if facets:
            record["facets"] = facets
        parent = uris.get(str(row.parent_post_id)) if pd.notna(row.parent_post_id) else None
        if parent:
            root = views[parent]["record"].get("reply", {}).get("root") or {"uri": parent, "cid": views[parent]["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": parent, "cid": views[parent]["cid"]}}
        views[uri] = {"uri": uri, "cid": "bafyrei" + hashlib.sha256(uri.encode()).hexdigest()[:46], "author": author,
                      "record": record, "replyCount": 0, "repostCount": 0, "likeCount": int(row.like_count or 0),
                      "quoteCount": 0, "indexedAt": _stamp(row.created_at + pd.Timedelta(seconds=1)), "labels": []}
    return {"me": actor(brand), "posts": list(views.values())}
