"""The ``socialcx`` command: one subcommand per pipeline stage, plus ``run`` for all of them.

Settings come from the environment (see .env.example); ``--warehouse`` overrides SOCIALCX_WAREHOUSE.
Errors a user can act on end with a one-line message and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from socialcx.core.sources import Source, env_example, registry, write_env_example

# at least 160 columns, so summary tables are not cut when the output goes to a log file or CI
console = Console(width=max(160, shutil.get_terminal_size((160, 24)).columns))
err = Console(stderr=True)


def _print_result(result: dict[str, object]) -> None:
    tables = result.get("tables")
    if isinstance(tables, list):
        table = Table(title=f"extract {result.get('source')}", show_edge=False)
        for column in ("table", "read", "loaded", "inserted", "updated", "quarantined"):
            table.add_column(column, justify="left" if column == "table" else "right")
        for row in tables:
            table.add_row(*(str(row[c]) for c in ("table", "read", "loaded", "inserted", "updated", "quarantined")))
        console.print(table)
        for row in tables:
            for reason, count in (row.get("reasons") or {}).items():
                console.print(f"  quarantined {count} row(s) of {row['table']}: {reason}")
            for note in row.get("notes") or []:
                console.print(f"  {note}")
    else:
        shown = {k: v for k, v in result.items() if k not in ("failures", "warnings") or v}
        console.print_json(json.dumps(shown, default=str))


def print_summary(data: dict[str, object]) -> None:
    rows = data["rows"]
    table = Table(title="rows per stage", show_edge=False)
    table.add_column("schema.table")
    table.add_column("rows", justify="right")
    for schema, counts in rows.items():
        for name, count in counts.items():
            table.add_row(f"{schema}.{name}", f"{count:,}")
    console.print(table)
    if data["kpis"]:
        # one row per KPI (the mart's column name, spelled out), one column per brand: long names stay whole
        brands = [str(row["brand"]) for row in data["kpis"]]
        kpis = Table(title="headline KPIs per brand (marts.mart_service_summary)", show_edge=False)
        kpis.add_column("kpi", no_wrap=True, min_width=max(len(c) for c in data["kpis"][0]))
        for brand in brands:
            kpis.add_column(brand, justify="right", overflow="fold")
        for column in [c for c in data["kpis"][0] if c != "brand"]:
            kpis.add_row(column, *("" if row[column] is None else str(row[column]) for row in data["kpis"]))
        console.print(kpis)
    console.print(f"quarantined rows: {data['quarantined']}")
    console.print(f"working warehouse: {data['warehouse']}")
    console.print(f"published for BI:  {data['published']} (Parquet: {data['parquet']})")
    console.print(f"GX Data Docs:      {data['data_docs']}")
    console.print(f"KPI report:        {data['report']}")


def _progress_enrich() -> Callable[[int, int], None]:
    from rich.progress import Progress

    progress = Progress(console=err, transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task("enriching posts", total=total)
        progress.update(task, completed=done)
        if done >= total:
            progress.stop()

    return update


def _stage_detail(result: dict[str, object]) -> str:
    """One line per stage for the end-of-run table: the counts that matter for that stage."""
    stage = str(result.get("stage", ""))
    if stage.startswith("extract_"):
        return f"{result.get('loaded', 0):,} loaded, {result.get('quarantined', 0):,} quarantined"
    if stage == "enrich":
        return f"{result.get('enriched', 0):,} posts enriched ({result.get('pipeline_version')})"
    if stage == "transform":
        return ", ".join(f"{count} {status}" for status, count in (result.get("nodes") or {}).items())
    if stage == "validate":
        failures, warnings = result.get("failures") or [], result.get("warnings") or []
        scope = "every row" if result.get("full", True) else "changed partitions"
        return f"{result.get('checked', 0)} checks on {scope}, {len(failures)} failed, {len(warnings)} warnings"
    if stage == "publish":
        return f"{len(result.get('tables') or {})} marts published"
    if stage == "report":
        return str(result.get("report", ""))
    if stage == "retain":
        return f"{result.get('expired', 0):,} raw texts replaced by their redacted text"
    if stage == "alert":
        sent = result.get("sent") or {}
        channels = ", ".join(f"{count} via {channel}" for channel, count in sent.items()) or "no channel configured"
        return f"{result.get('incidents', 0)} open incidents; sent {channels}"
    return ""


def _docs(args: argparse.Namespace) -> None:
    from socialcx.core.settings import get_settings
    from socialcx.serving.docs import make_server
    from socialcx.stages.serving import docs as build_docs

    settings = get_settings()
    with console.status("generating dbt docs"):
        built = build_docs(settings)
    for name in ("dbt_docs", "data_docs", "report"):
        console.print(f"{name:<10} {built[name]}")
    if args.no_serve:
        return
    server = make_server(settings.reports_dir, args.port)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    console.print(f"serving on {base}/  (dbt docs: {base}/dbt_docs/, GX Data Docs: {base}/data_docs/, "
                  f"report: {base}/latest/); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _run(args: argparse.Namespace) -> None:
    """`socialcx run` and `socialcx backfill`: a progress bar over the stages (and over the posts while
    enriching), then a summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from socialcx import stages

    columns = (SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        pipeline = progress.add_task("pipeline", total=None)
        posts = None

        def on_stage(name: str, index: int, total: int) -> None:
            progress.update(pipeline, description=f"stage {name}", completed=index, total=total)

        def on_posts(done: int, total: int) -> None:
            nonlocal posts
            if posts is None:
                posts = progress.add_task("  enriching posts", total=total)
            progress.update(posts, completed=done)

        if args.command == "backfill":
            results = stages.backfill(args.start, args.end, on_stage=on_stage, enrich_progress=on_posts,
                                      extract=args.extract)
        else:
            results = stages.run_all(posts=args.posts, seed=args.seed, on_stage=on_stage, enrich_progress=on_posts)
    table = Table(title=f"run {results[0]['run_id']}", show_edge=False)
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("outcome")
    for result in results:
        table.add_row(str(result["stage"]), f"{result.get('seconds', 0):.1f}", _stage_detail(result))
    console.print(table)
    print_summary(stages.summary())


KINDS = {"int": int}


def _add_source(sources: argparse._SubParsersAction, source: Source) -> None:
    """``socialcx extract <source>``: the registry entry's options that have a command-line form."""
    parser = sources.add_parser(source.name, help=source.help,
                                description=f"Load {source.help} into raw ({', '.join(source.streams)}).")
    for option in source.options:
        if not option.cli:
            continue
        default = f"${source.env(option)}" + (f" or {option.default}" if option.default else "")
        common = {"help": f"{option.help} (default {default})", "type": KINDS.get(option.kind, str)}
        if option.choices:
            common["choices"] = list(option.choices)
        if option.cli == "positional":
            nargs = "*" if option.kind in ("path", "list") else "?"
            parser.add_argument(option.name, nargs=nargs, metavar=option.name.upper(), **common)
        elif option.kind == "list":
            parser.add_argument(option.cli, action="append", dest=option.name, **common)
        else:
            parser.add_argument(option.cli, dest=option.name, **common)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="socialcx",
        description="Social customer-service analytics: extract, enrich, transform, validate, publish.",
    )
    parser.add_argument("--warehouse", help="DuckDB file of the working warehouse (default: $SOCIALCX_WAREHOUSE "
                                            "or warehouse/socialcx.duckdb)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser("extract", help="load a source into the raw schema",
                                  description="Load one source into the raw schema, merging on natural keys.")
    sources = extract.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for source in registry().values():
        _add_source(sources, source)

    commands.add_parser("enrich", help="run the NLP pipeline on posts not yet enriched",
                        description="Annotate new or changed posts with sentiment, categories, intent, urgency "
                                    "and redacted text, into enriched.post_nlp.")
    transform = commands.add_parser("transform", help="build the dbt models and run their tests",
                                    description="dbt build on the project in dbt_project/.")
    transform.add_argument("--select", nargs="+", metavar="SELECTOR",
                           help="dbt selection, one or more, e.g. fct_replies+ mart_service_performance+")
    transform.add_argument("--full-refresh", action="store_true",
                           help="rebuild incremental models from scratch (repairs a bad row an incremental mart kept)")
    validate = commands.add_parser(
        "validate", help="run the Great Expectations suites",
        description="Validate raw, enriched and marts; exit 1 naming each failed critical check. A run checks the "
                    "partitions whose rows changed since they last passed, and every row once a day "
                    "(SOCIALCX_FULL_VALIDATION_HOURS) or with --full.")
    validate.add_argument("--full", action="store_true", default=None,
                          help="check every row of every suite now (the daily full validation, on demand)")
    commands.add_parser("publish", help="publish the marts for BI tools",
                        description="Write the read-only DuckDB file and Parquet files atomically; refused while "
                                    "the latest validation failed.")
    commands.add_parser("report", help="build the KPI report (HTML with charts) from the published marts",
                        description="Write reports/latest/index.html from the published marts: charts of response "
                                    "times, SLA, sentiment, categories, recovery, retention, wallet share and ROI, "
                                    "filterable by brand and date. Works offline.")
    docs = commands.add_parser("docs", help="build dbt docs and serve them with the GX Data Docs and the report",
                               description="Generate dbt's docs (lineage, model and KPI definitions) and serve them, "
                                           "the Great Expectations Data Docs and the KPI report on 127.0.0.1.")
    docs.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (default 8081)")
    docs.add_argument("--no-serve", action="store_true", help="build only, do not start the server")
    run = commands.add_parser("run", help="every stage in order, without Airflow",
                              description="extract (configured sources), enrich, transform, validate, publish, "
                                          "report; a progress bar while it runs and a summary at the end.")
    run.add_argument("--posts", type=int, help="sample size, as for `extract sample`")
    run.add_argument("--seed", type=int, help="sample seed, as for `extract sample`")
    backfill = commands.add_parser(
        "backfill", help="re-process a date range: re-enrich its posts, rebuild its conversations and KPIs",
        description="Re-process what raw holds: re-enrich the posts created between --start and --end (inclusive), "
                    "rebuild the incremental marts for them even outside the lookback window, then validate, "
                    "publish, report and alert. Use it after "
                    "changing brand settings, the taxonomy or a dbt var. Airflow's equivalent: airflow backfill "
                    "create --dag-id socialcx_pipeline --from-date ... --to-date ...")
    backfill.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    backfill.add_argument("--extract", action="store_true",
                          help="extract the configured sources first (default: re-process what raw holds)")
    nlp = commands.add_parser("nlp", help="evaluate, train, compare and promote NLP models; sample posts to label",
                              description="Measure the pipeline on labelled data, train classifiers on it, and run "
                                          "the labelling loop: sample -> label -> train -> compare -> promote.")
    nlp_commands = nlp.add_subparsers(dest="nlp_command", required=True, metavar="NLP_COMMAND")
    for verb, text in (("evaluate", "accuracy, macro-F1, per-class figures and confusion matrix on a labelled CSV"),
                       ("train", "train textcat (and textcat_multilabel) on a labelled CSV; prints held-out figures")):
        sub = nlp_commands.add_parser(verb, help=text, description=text)
        sub.add_argument("--data", required=True, help="CSV file with one labelled post per row")
        sub.add_argument("--text-column", required=True, help="column holding the post's text")
        sub.add_argument("--label-column", required=True, help="column holding negative/neutral/positive")
        sub.add_argument("--category-column", help="column holding a complaint category (optional)")
        sub.add_argument("--category-map", help="YAML mapping the data's categories onto the taxonomy "
                                                "(see nlp/category_maps/); without it the labels are taken as "
                                                "taxonomy names of --industry")
        sub.add_argument("--industry", help="taxonomy of the category labels when there is no --category-map "
                                            "(default generic)")
        if verb == "evaluate":
            sub.add_argument("--model", default=None, help="model directory from `nlp train` (default: "
                                                           "$SOCIALCX_NLP_MODEL or the rule pipeline)")
            sub.add_argument("--json", action="store_true", help="also print one JSON object as the last line")
            sub.add_argument("--split", choices=["all", "tune", "half"], default="all",
                             help="evaluate on one half of the file: 'half' is the half rules were not tuned on, "
                                  "'tune' the other (halves by a hash of the text; default all rows)")
        else:
            sub.add_argument("--output", default="nlp/models", help="where model directories go (default nlp/models)")
            sub.add_argument("--name", default="custom", help="model name; the directory is NAME-<timestamp>")
            sub.add_argument("--seed", type=int, default=13, help="seed of the split and the training (default 13)")
            sub.add_argument("--holdout", type=float, default=0.2,
                             help="share of the rows held out for the printed figures (default 0.2; 0 trains on "
                                  "every row and prints the validation split's figures)")

    sample = nlp_commands.add_parser(
        "sample", help="posts to label, from the warehouse, redacted; lowest confidence first",
        description="Write N customer posts (redacted text) with the current labels and confidence, for a person to "
                    "label: CSV (fill the sentiment and category columns) or Label Studio tasks.")
    sample.add_argument("--n", type=int, default=300, help="how many posts (default 300)")
    sample.add_argument("--strategy", choices=["uncertain", "stratified", "disagreement"], default="uncertain")
    sample.add_argument("--out", required=True, help="the file to write")
    sample.add_argument("--format", choices=["csv", "label-studio"], default="csv", dest="fmt")
    sample.add_argument("--seed", type=int, default=7, help="seed of the random order (default 7)")
    compare = nlp_commands.add_parser(
        "compare", help="two models side by side on labelled posts, with per-class deltas",
        description="Evaluate two models on the same labelled file. A model is a directory from `nlp train`, "
                    "'current' (the one enrichment uses) or 'default' (the rules).")
    compare.add_argument("--data", required=True)
    compare.add_argument("--models", nargs=2, required=True, metavar=("FIRST", "SECOND"))
    compare.add_argument("--text-column", default="text")
    compare.add_argument("--label-column", default="sentiment")
    compare.add_argument("--category-column")
    compare.add_argument("--category-map")
    compare.add_argument("--industry")
    promote = nlp_commands.add_parser(
        "promote", help="make a trained model the one the pipeline uses (recorded in ops.nlp_models)",
        description="Record MODEL in ops.nlp_models as the current model: the next run re-enriches every post "
                    "with it. 'default' promotes the rule pipeline.")
    promote.add_argument("model")
    nlp_commands.add_parser("rollback", help="return to the model promoted before (or the rules)",
                            description="Retire the current promotion; the next run re-enriches every post with "
                                        "the model promoted before it, or with the rule pipeline.")
    nlp_commands.add_parser("models", help="the promotion history of ops.nlp_models",
                            description="Every promotion with its figures; the current one is marked.")

    forget = commands.add_parser("forget", help="erase a person or a post everywhere, and re-publish",
                                 description="GDPR erasure or a post deleted at the source: delete from raw, "
                                             "enriched, marts and the published files.")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--author", help="the person's author id or handle (their CRM record goes too)")
    who.add_argument("--post", help="one post, as SOURCE:POST_ID")
    forget.add_argument("--email", action="append", dest="emails", default=[],
                        help="the person's e-mail address too (repeatable): CRM rows and quarantined records "
                             "holding it are erased, and never loaded again")

    example = commands.add_parser("env-example", help="print the sources' block of .env.example, from the registry",
                                  description="Every registered source's settings with their defaults, as "
                                              ".env.example lists them between its sources markers.")
    example.add_argument("--write", metavar="FILE", help="replace the block in FILE (e.g. .env.example) instead")
    commands.add_parser("summary", help="rows per stage, headline KPIs and where the outputs are",
                        description="Print rows per stage, headline KPIs per brand and the output paths.")
    export = commands.add_parser("export", help="one row per conversation (or reply) from the published marts",
                                 description="Write fct_conversations (or fct_replies) of the published marts as "
                                             "CSV or Parquet, filtered by brand and dates.")
    export.add_argument("what", choices=["conversations", "replies"])
    export.add_argument("--brand", action="append", dest="brands", default=[],
                        help="a brand handle (repeatable; default every brand)")
    export.add_argument("--start", type=date.fromisoformat, help="first day, YYYY-MM-DD (conversations: opened; "
                                                                "replies: sent)")
    export.add_argument("--end", type=date.fromisoformat, help="last day, YYYY-MM-DD, inclusive")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv", dest="fmt")
    export.add_argument("--output", help="the file to write (default exports/<what>.<format>)")
    return parser


def _nlp(args: argparse.Namespace) -> int:
    from nlp.evaluate import evaluate, format_report
    from socialcx.core.settings import get_settings

    if args.nlp_command in ("sample", "promote", "rollback", "models", "compare"):
        return _nlp_loop(args)
    if args.nlp_command == "evaluate":
        report = evaluate(Path(args.data), args.text_column, args.label_column, args.category_column,
                          Path(args.category_map) if args.category_map else None,
                          model=args.model or get_settings().nlp_model, split=args.split, industry=args.industry)
        print(format_report(report))
        if args.json:
            print(json.dumps(report))
        return 0
    from nlp.train import train

    model_dir, report = train(Path(args.data), args.text_column, args.label_column, args.category_column,
                              Path(args.category_map) if args.category_map else None, output=Path(args.output),
                              name=args.name, seed=args.seed, holdout=args.holdout, industry=args.industry)
    print(format_report(report))
    print(f"\ntrained on {report['training_rows']} rows (validation {report['validation_rows']}); "
          f"rule weight {report['rule_weight']}, category threshold {report['category_threshold']}")
    print(f"held out: sentiment macro-F1 {report['macro_f1']:.4f} against {report['rules_macro_f1']:.4f} for the "
          "rules alone" + (f"; categories {report['category_macro_f1']:.4f} against "
                           f"{report['rules_category_macro_f1']:.4f}" if report.get("category_macro_f1") is not None
                           else ""))
    print(f"model saved to {model_dir}\ncompare it: socialcx nlp compare --data LABELLED --models current {model_dir}"
          f"\nuse it: socialcx nlp promote {model_dir}")
    return 0


def _nlp_loop(args: argparse.Namespace) -> int:
    """sample, compare, promote, rollback, models: the commands that read or write the warehouse's registry."""
    from nlp import labelling, registry
    from socialcx.core.settings import get_settings
    from socialcx.core.warehouse import open_warehouse

    settings = get_settings()
    with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
        if args.nlp_command == "sample":
            model = registry.model_for_enrichment(con, settings.nlp_model)
            frame = labelling.sample(con, args.n, args.strategy, model, args.seed)
            from nlp.pipeline import load_pipeline

            taxonomies = load_pipeline("default")[0].get_pipe("socialcx_categories").taxonomies
            names = sorted({name for cats in taxonomies.values() for name, _, _ in cats})
            written = labelling.write(frame, Path(args.out), "csv" if args.fmt == "csv" else "label-studio", names)
            print(f"{len(frame)} posts ({args.strategy}) written to {', '.join(map(str, written))}")
            return 0
        if args.nlp_command == "compare":
            from nlp.evaluate import evaluate

            models = [registry.model_for_enrichment(con, settings.nlp_model) if m == "current" else m
                      for m in args.models]
        elif args.nlp_command == "promote":
            promotion = registry.promote(con, args.model)
            print(f"promoted {promotion.model_version} ({promotion.model_dir}); figures {promotion.figures}")
            if settings.nlp_model not in ("", "default"):
                print(f"note: SOCIALCX_NLP_MODEL={settings.nlp_model} overrides the registry; set it to 'default' "
                      "(or unset it) to use the promoted model")
            print("the next run re-enriches every post with it")
            return 0
        elif args.nlp_command == "rollback":
            retired, restored = registry.rollback(con)
            print(f"rolled back {retired.model_version}; now in use: "
                  f"{restored.model_version if restored else 'the rule pipeline'}. The next run re-enriches every post.")
            return 0
        else:
            for number, version, model_dir, promoted, rolled_back, figures in registry.history(con):
                state = f"rolled back {rolled_back:%Y-%m-%d %H:%M}" if rolled_back else "promoted"
                print(f"{number:>3}  {version:<40} {promoted:%Y-%m-%d %H:%M}  {state:<28} {model_dir}  {figures}")
            current = registry.current(con)
            print(f"current: {current.model_version if current else 'the rule pipeline (nothing promoted)'}")
            return 0
    reports = {m: evaluate(Path(args.data), args.text_column, args.label_column, args.category_column,
                           Path(args.category_map) if args.category_map else None, model=m, industry=args.industry)
               for m in models}
    if len(reports) < 2:
        raise SystemExit("nlp compare: give two different models")
    print(labelling.compare(reports))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.warehouse:
        os.environ["SOCIALCX_WAREHOUSE"] = args.warehouse
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from socialcx.core.logs import install, scrub

    install()  # no secret and no e-mail, card or phone number in what we log
    from socialcx import stages
    from socialcx.core.warehouse import WarehouseDamagedError, WarehouseLockedError

    try:
        if args.command == "extract":
            given = {o.name: getattr(args, o.name) for o in registry()[args.source].options if o.cli}
            _print_result(stages.extract(args.source, **given))
        elif args.command == "env-example":
            if args.write:
                write_env_example(Path(args.write))
            else:
                print(env_example(), end="")
        elif args.command == "enrich":
            _print_result(stages.enrich(progress=_progress_enrich()))
        elif args.command == "transform":
            _print_result(stages.transform(select=" ".join(args.select) if args.select else None, full_refresh=args.full_refresh))
        elif args.command == "validate":
            _print_result(stages.validate(full=args.full))
        elif args.command == "publish":
            _print_result(stages.publish())
        elif args.command in ("run", "backfill"):
            _run(args)
        elif args.command == "docs":
            _docs(args)
        elif args.command == "report":
            result = stages.report()
            console.print(f"report written: {result['report']} ({result['bytes']:,} bytes; open it in a browser, "
                          "it needs no network)")
        elif args.command == "forget":
            _print_result(stages.forget(author=args.author, post=args.post, emails=args.emails))
        elif args.command == "nlp":
            return _nlp(args)
        elif args.command == "summary":
            print_summary(stages.summary())
        elif args.command == "export":
            from socialcx.core.settings import get_settings
            from socialcx.serving.export import export

            output = Path(args.output or f"exports/{args.what}.{args.fmt}")
            result = export(get_settings().published_warehouse, args.what, output, brands=args.brands,
                            start=args.start, end=args.end, fmt=args.fmt)
            console.print(f"{result.rows:,} {args.what} written to {result.path}")
    except (stages.StageError, WarehouseLockedError, WarehouseDamagedError, FileNotFoundError, ValueError,
            OSError) as exc:
        err.print(f"socialcx {args.command}: {scrub(str(exc))}", style="bold red", soft_wrap=True, markup=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
