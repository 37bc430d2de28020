"""The source registry: the one list of sources, and everything the rest of socialcx needs to know about each.

A source is one package under ``extractors/`` (its ``extract`` module has ``run(con, settings, run_id,
**options)`` and optionally ``prepare(read, settings, **options)`` for network work done before the warehouse
is locked) plus one :class:`Source` entry here: its name, its settings, the raw streams it loads and its
freshness defaults. Everything else reads this registry:

- ``Settings`` reads each source's options from ``SOCIALCX_<SOURCE>_<OPTION>`` (or the option's own ``env``);
- ``.env.example`` lists them (the block between its ``sources`` markers is :func:`env_example`'s output);
- the CLI builds ``socialcx extract <source>`` and its flags from the options that have a ``cli`` flag;
- the DAG makes one ``extract_<source>`` task per configured source (``SOCIALCX_SOURCES``);
- dbt source freshness checks each configured source (``socialcx.stages.freshness`` writes the dbt sources
  file from here);
- the GX suite on ``raw.posts`` accepts the sources that load posts.

A source that does not ship with socialcx registers from its own package: name the module that defines
``SOURCE = Source(...)`` in ``SOCIALCX_SOURCE_PLUGINS`` (comma-separated module names).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

PLUGINS_ENV = "SOCIALCX_SOURCE_PLUGINS"


@dataclass(frozen=True)
class Option:
    """One setting of a source. The extractor's ``run`` receives it as the keyword ``name``: the command-line
    value when one was given, else the environment's, else ``default``."""

    name: str
    help: str
    default: str = ""
    kind: str = "str"  # str | int | list (comma-separated) | path | date (YYYY-MM-DD)
    env: str | None = None  # default SOCIALCX_<SOURCE>_<NAME>
    cli: str | None = None  # "--flag", or "positional" (the option's name as an argument); None: a setting only
    choices: tuple[str, ...] = ()
    secret: bool = False  # listed in .env.example, never read into Settings: the extractor reads it itself


@dataclass(frozen=True)
class Source:
    name: str
    module: str  # the module holding run() (and prepare())
    help: str
    streams: tuple[str, ...]  # the raw tables it loads
    options: tuple[Option, ...] = field(default_factory=tuple)
    freshness_warn_hours: int = 2
    freshness_error_hours: int = 6

    def env(self, option: Option) -> str:
        return option.env or f"SOCIALCX_{self.name.upper()}_{option.name.upper()}"

    @property
    def loads_posts(self) -> bool:
        return "posts" in self.streams


BUILTIN: tuple[Source, ...] = (
    Source(
        "sample", "extractors.sample.extract",
        "the generated sample world (deterministic, seedable)",
        streams=("posts", "brands", "customers", "orders"),
        options=(
            Option("posts", "about how many posts", "20000", "int", cli="--posts"),
            Option("seed", "random seed", "42", "int", cli="--seed"),
            Option("end_date", "last day of the world, YYYY-MM-DD", "2026-10-31", "date", cli="--end-date"),
        ),
        freshness_warn_hours=2, freshness_error_hours=6,
    ),
    Source(
        "file", "extractors.file.extract",
        "CSV, JSONL or Parquet files: twcs layout, or mapped",
        streams=("posts",),
        options=(
            Option("paths", "files or folders to load (the drop folder)", "data/drop", "path",
                   env="SOCIALCX_FILE_DROP", cli="positional"),
            Option("format", "twcs (Customer Support on Twitter) or mapped (needs a mapping)", "twcs",
                   cli="--format", choices=("twcs", "mapped")),
            Option("mapping", "YAML column mapping for the mapped format", "", "path", cli="--mapping"),
        ),
        # files arrive when someone drops them: a day without one is normal, three are worth an error
        freshness_warn_hours=24, freshness_error_hours=72,
    ),
    Source(
        "x", "extractors.x.extract",
        "brand mentions and replies from the X API v2 (recent search)",
        streams=("posts",),
        options=(
            Option("brands", "brand handles to follow, comma-separated", "", "list", cli="--brand"),
            Option("base_url", "X API v2 base URL", "https://api.x.com"),
            Option("bearer_token", "app bearer token, or the password of the Airflow connection socialcx_x; "
                                   "never put it in a shared file", secret=True),
        ),
        freshness_warn_hours=2, freshness_error_hours=6,
    ),
    Source(
        "bluesky", "extractors.bluesky.extract",
        "mentions, replies and quotes of a brand on Bluesky, its own posts and their threads",
        streams=("posts",),
        options=(
            Option("base_url", "the AT Protocol service that holds the account (its PDS, or the bsky.social "
                               "entryway)", "https://bsky.social"),
            Option("handle", "the account that signs in, e.g. acmehelp.bsky.social"),
            Option("app_password", "an app password of that account (Settings > Privacy and security > App "
                                   "passwords), or the login and password of the Airflow connection socialcx_bluesky; "
                                   "never the account password, never in a shared file", secret=True),
            Option("brand", "the brand to watch; default the signed-in account (its notifications); another handle "
                            "is watched through search", cli="--brand"),
            Option("max_pages", "pages of 100 items read per stream and run (a first run reads this far back)", "20",
                   "int"),
            Option("recheck", "most recent posts re-read each run to find those deleted upstream", "20", "int"),
        ),
        freshness_warn_hours=2, freshness_error_hours=6,
    ),
    Source(
        "mastodon", "extractors.mastodon.extract",
        "a brand account's mentions, its own posts and their threads on a Mastodon instance",
        streams=("posts",),
        options=(
            Option("base_url", "the brand account's instance, e.g. https://mastodon.social"),
            Option("access_token", "the brand account's access token (scopes read:accounts read:statuses "
                                   "read:notifications), or the password of the Airflow connection socialcx_mastodon; "
                                   "never put it in a shared file", secret=True),
            Option("max_pages", "pages of 40 items read per stream and run (a first run reads this far back)", "20",
                   "int"),
            Option("recheck", "most recent posts re-read each run to find those deleted upstream", "20", "int"),
        ),
        freshness_warn_hours=2, freshness_error_hours=6,
    ),
    Source(
        "crm", "extractors.crm.extract",
        "CRM customers and orders: a folder of CSV/Parquet, or a SQLAlchemy URL",
        streams=("customers", "orders"),
        options=(
            Option("location", "a folder with customers.(csv|parquet) and orders.(csv|parquet), or a SQLAlchemy "
                               "URL (put a password in ~/.pgpass, not here)", "", env="SOCIALCX_CRM",
                   cli="positional"),
        ),
        # a nightly export: warn past a missed night, error past two
        freshness_warn_hours=26, freshness_error_hours=50,
    ),
    Source(
        "survey", "extractors.survey.extract",
        "NPS survey answers (native layout, or a survey tool's export through a mapping) and detractor follow-ups",
        streams=("responses",),
        options=(
            Option("paths", "survey files or folders to load", "data/surveys", "path", env="SOCIALCX_SURVEY_DROP",
                   cli="positional"),
            Option("format", "native (response_id, brand, score, ...) or mapped (needs a mapping)", "native",
                   cli="--format", choices=("native", "mapped")),
            Option("mapping", "YAML mapping of a survey tool's export (extractors/survey/mappings/)", "", "path",
                   cli="--mapping"),
            Option("followups", "CSV/JSONL/Parquet of detractor follow-ups: response_id, contacted_at, closed_at, "
                                "team, note", "", "path", env="SOCIALCX_SURVEY_FOLLOWUPS", cli="--followups"),
        ),
        # survey exports come weekly: warn past a missed week, error past two
        freshness_warn_hours=192, freshness_error_hours=360,
    ),
)


class UnknownSource(ValueError):
    pass


def registry() -> dict[str, Source]:
    """Every source, the built-in ones first, then those of ``SOCIALCX_SOURCE_PLUGINS`` in their order."""
    sources = {s.name: s for s in BUILTIN}
    for module_name in [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]:
        try:
            source = importlib.import_module(module_name).SOURCE
        except (ImportError, AttributeError) as exc:
            raise UnknownSource(f"{PLUGINS_ENV} names {module_name!r}, which does not define SOURCE = Source(...) "
                                f"({exc.__class__.__name__}); fix the module name or remove it") from None
        if not isinstance(source, Source):
            raise UnknownSource(f"{module_name}.SOURCE is not a socialcx.core.sources.Source")
        sources[source.name] = source
    return sources


def get(name: str) -> Source:
    sources = registry()
    if name not in sources:
        raise UnknownSource(f"unknown source {name!r}; known sources: {', '.join(sources)}. "
                            "Set SOCIALCX_SOURCES to a comma-separated list of them")
    return sources[name]


ENV_BEGIN = "# --- sources: generated from socialcx/core/sources.py by `socialcx env-example`; do not edit ---"
ENV_END = "# --- end of sources ---"


def env_example() -> str:
    """The sources' block of ``.env.example``: every option of every registered source, with its default."""
    lines = [ENV_BEGIN]
    for source in registry().values():
        lines.append(f"# Source {source.name}: {source.help}. Loads {', '.join(source.streams)}.")
        for option in source.options:
            lines.append(f"# {option.help}")
            lines.append(f"{source.env(option)}={'' if option.secret else option.default}")
    lines.append(ENV_END)
    return "\n".join(lines) + "\n"


def write_env_example(path: Path) -> None:
    """Replace the sources' block of an ``.env.example`` (between its markers) with :func:`env_example`."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(ENV_BEGIN), text.find(ENV_END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no sources block: add the lines {ENV_BEGIN!r} and {ENV_END!r} where it goes")
    path.write_text(text[:start] + env_example() + text[end + len(ENV_END) + 1:], encoding="utf-8")
