"""The extract stage: one registered source into raw, network work first, then a short write."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from socialcx.core import sources
from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse
from socialcx.stages.runs import StageError, new_run_id, recorded


def resolve_options(source: sources.Source, settings: Settings, given: dict[str, object]) -> dict[str, object]:
    """The options the extractor receives: each registry option's setting, overridden by a value given here
    (the command line's); keywords the registry does not declare (a test's client, ``prepared``) pass through."""
    options = settings.source(source.name)
    for name, value in given.items():
        if value is not None and value != [] or name not in options:
            options[name] = value
    return options


def extract(source: str, *, run_id: str | None = None, settings: Settings | None = None,
            **options: object) -> dict[str, object]:
    """Load one registered source into raw through its module's ``run`` (and ``prepare``, if it has one)."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    try:
        entry = sources.get(source)
    except sources.UnknownSource as exc:
        raise StageError(str(exc)) from None
    with recorded(settings, run_id, f"extract_{source}") as info:
        from extractors.load import SourceError

        module = importlib.import_module(entry.module)
        options = resolve_options(entry, settings, options)

        def read(query: Callable[..., object]) -> object:
            with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
                return query(con)

        try:
            if hasattr(module, "prepare"):
                # network first, with no lock held: readers and other stages are not blocked while an API
                # makes us wait; then a short write
                options = {**options, "prepared": module.prepare(read, settings, **options)}
            with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
                results = module.run(con, settings, run_id, **options)
        except SourceError as exc:
            raise StageError(str(exc)) from exc
        info["tables"] = [r.as_dict() for r in results]
        info["read"] = sum(r.read for r in results)
        info["loaded"] = sum(r.loaded for r in results)
        info["quarantined"] = sum(r.quarantined for r in results)
    return {"source": source, "run_id": run_id, **info}
