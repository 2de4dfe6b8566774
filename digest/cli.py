"""The command line: a thin Click layer over ``pipeline``.

Every command is a few lines. Expected failures arrive as ``DigestError`` and
are printed in one place (:class:`DigestGroup`); ``--debug`` re-raises them
so the traceback shows. Heavy modules are imported inside commands, so
``digest --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from . import __version__
from .errors import DigestError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    """What the group hands to its commands (``ctx.obj``)."""

    debug: bool = False
    config_path: str | None = None

    def config(self, path: str | None = None, **overrides: Any) -> Any:
        """The config: defaults < file < the flags the user passed."""
        from .config import load_config

        return load_config(path or self.config_path).with_overrides(overrides)


pass_state = click.make_pass_decorator(State, ensure=True)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


class DigestGroup(click.Group):
    """Prints a DigestError as one line (plus a hint) and exits 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            if _debug(ctx):
                raise
            for line in exc.warnings:
                warn(line)
            for line in exc.details:
                click.echo(f"error: {line}", err=True)
            click.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"hint: {exc.hint}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted; out/ was left as it was", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line unless --debug
            if _debug(ctx):
                raise
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(this is a bug in digest; rerun with --debug and report it)",
                err=True,
            )
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_object(State)
    return bool(obj and obj.debug)


def source_options(func: F) -> F:
    """SOURCES and -c/--config, shared by the commands that read articles."""
    func = click.argument("sources", nargs=-1, type=click.Path())(func)
    func = click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (default: ./digest.toml if present).",
    )(func)
    return func


def period_options(func: F) -> F:
    """--month, --since and --until: which articles, by date, the issue covers."""
    func = click.option(
        "--until",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Only articles dated on or before this day (YYYY-MM-DD).",
    )(func)
    func = click.option(
        "--since",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Only articles dated on or after this day (YYYY-MM-DD).",
    )(func)
    func = click.option(
        "--month",
        default=None,
        metavar="YYYY-MM",
        help="Only articles dated in this month; undated articles are left out.",
    )(func)
    return func


def make_window(month: str | None, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    """The dates the issue covers, from the flags (a usage error when they clash)."""
    from .period import Window, month_window

    if month is not None:
        if since is not None or until is not None:
            raise click.UsageError("use --month, or --since/--until, not both")
        try:
            return month_window(month)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--month'") from exc
    first = since.date() if since else None
    last = until.date() if until else None
    if first and last and first > last:
        raise click.BadParameter(f"{last} is before --since {first}", param_hint="'--until'")
    return Window(since=first, until=last)


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="digest")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./digest.toml if present).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, config_path: str | None) -> None:
    """Turn a month of articles into a newsletter: summarized, grouped by theme,
    rendered as an HTML email and plain text."""
    ctx.obj = State(debug=debug, config_path=config_path)


@cli.command()
@source_options
@click.option("-o", "--out", default=None, type=click.Path(), help="Output folder (default: out/).")
@click.option("--summarizer", default=None, help="Summarizer name (default: auto).")
@click.option(
    "--sentences",
    default=None,
    type=click.IntRange(1, 50),
    help="Sentences per summary (default: 3).",
)
@click.option(
    "--templates",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of template overrides.",
)
@click.option("--strict", is_flag=True, default=None, help="Treat warnings as errors.")
@click.option(
    "-j",
    "--jobs",
    default=None,
    type=click.IntRange(0, 256),
    help="Processes that summarize (default: all cores; 0 = all cores).",
)
@period_options
@click.option(
    "--archive",
    is_flag=True,
    default=None,
    help="Also write the issue into OUT/YYYY-MM/, OUT/index.html and OUT/feed.xml.",
)
@click.option(
    "--fetch-full",
    is_flag=True,
    default=None,
    help="Download each feed entry's page for its full text.",
)
@pass_state
def build(
    state: State,
    sources: tuple[str, ...],
    config_path: str | None,
    out: str | None,
    summarizer: str | None,
    sentences: int | None,
    templates: str | None,
    strict: bool | None,
    jobs: int | None,
    month: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    archive: bool | None,
    fetch_full: bool | None,
) -> None:
    """Build the digest of SOURCES (files, folders, feed or page URLs) into the output folder."""
    from .pipeline import build_to

    config = state.config(
        config_path,
        **{
            "build.out": out,
            "summary.summarizer": summarizer,
            "summary.sentences": sentences,
            "templates.dir": templates,
            "build.strict": strict or None,
            "build.jobs": jobs,
            "build.fetch_full": fetch_full or None,
            "archive.enabled": archive or None,
        },
    )
    window = make_window(month, since, until)
    result = build_to(config, config.build.out, list(sources) or None, progress_bar(), window)
    for message in result.warnings:
        warn(message)
    n = len(result.digest.articles)
    names = ", ".join(name for name, _ in result.rendered.files)
    click.echo(
        f"Built {n} article{'s' * (n != 1)} in {len(result.digest.sections)} "
        f"section{'s' * (len(result.digest.sections) != 1)}: {names} in {config.build.out}/"
    )
    d = result.digest
    if d.issue:
        where = (
            f"; archived in {config.build.out}/{d.key}/, index.html and feed.xml"
            if config.archive.enabled
            else ""
        )
        click.echo(f"Issue {d.issue} ({d.key}){where}")


@cli.command()
@source_options
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1; if taken, the next free one (0: any free port).",
)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@pass_state
def preview(
    state: State, sources: tuple[str, ...], config_path: str | None, port: int, no_open: bool
) -> None:
    """Serve a live preview of the digest on 127.0.0.1; it rebuilds when an
    article, a template or the config changes. Ctrl-C stops it."""
    from .preview import has_display, serve

    def ready(url: str) -> None:
        click.echo(f"Preview at {url} (127.0.0.1 only; Ctrl-C to stop)")
        if not no_open and has_display():
            click.launch(url)

    serve(
        lambda: state.config(config_path),
        list(sources),
        port,
        on_ready=ready,
        log=lambda message: click.echo(message, err=True),
        debug=state.debug,
    )


def progress_bar(minimum: int = 50) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr for builds of ``minimum`` articles or more,
    drawn only when stderr is a terminal (logs and pipes stay clean)."""
    import sys

    stream = sys.stderr
    if not stream.isatty():
        return None
    state = {"shown": -1}

    def draw(done: int, total: int) -> None:
        if total < minimum:
            return
        percent = 100 * done // total
        if percent == state["shown"] and done != total:
            return
        state["shown"] = percent
        filled = 30 * done // total
        bar = "#" * filled + "-" * (30 - filled)
        end = "\n" if done == total else ""
        stream.write(f"\rsummarizing [{bar}] {done}/{total}{end}")
        stream.flush()

    return draw


@cli.command()
@source_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--suggest",
    type=click.IntRange(1, 100),
    default=None,
    metavar="K",
    help="Propose K themes from the articles (clustering), as TOML to paste into the config.",
)
@pass_state
def themes(
    state: State,
    sources: tuple[str, ...],
    config_path: str | None,
    fmt: str,
    suggest: int | None,
) -> None:
    """Show each article's theme, its score for every theme and the words that decided it."""
    from . import pipeline
    from .classify import report_json, report_table

    config = state.config(config_path)
    if suggest is not None:
        text, warnings = pipeline.suggest_themes(config, suggest, list(sources) or None)
    else:
        data, warnings = pipeline.themes(config, list(sources) or None)
        text = report_json(data) if fmt == "json" else report_table(data)
    for message in warnings:
        warn(message)
    click.echo(text, nl=False)


@cli.command()
@click.argument("directory", required=False, type=click.Path())
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./digest.toml if present).",
)
@pass_state
def check(state: State, directory: str | None, config_path: str | None) -> None:
    """Check a built digest in DIRECTORY (default: the output folder): size,
    accessibility, links, dark mode, plain text and message headers. Prints
    one line per finding; exits 1 when any is an error."""
    from .check import check_dir

    config = state.config(config_path)
    findings = check_dir(directory or config.build.out, config)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}",
        err=True,
    )
    if errors:
        raise click.exceptions.Exit(1)


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./digest.toml if present).",
)
@click.option("--to", "to", multiple=True, metavar="ADDR", help="A recipient (repeatable).")
@click.option(
    "--recipients",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV file with an email column (and name, token, ...).",
)
@click.option(
    "--test",
    "test_to",
    metavar="ADDR",
    default=None,
    help="Send one copy marked [TEST] to ADDR (the ledger is left alone).",
)
@click.option("--dry-run", is_flag=True, help="Send nothing: write the messages to FOLDER/outbox/.")
@click.option(
    "--export-json",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one ESP API payload (JSON) per recipient into this folder.",
)
@click.option("--smtp-host", default=None, help="SMTP server (default: smtp.host).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=None, help="SMTP port.")
@click.option(
    "--security",
    type=click.Choice(["starttls", "ssl", "none"]),
    default=None,
    help="TLS: starttls (587), ssl (465) or none.",
)
@click.option(
    "--user", default=None, help="SMTP user; the password comes from DIGEST_SMTP_PASSWORD."
)
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="PEM file of the CA to trust for the server's certificate.",
)
@click.option("--rate", default=None, help="At most this many messages: N/s, N/min or N/h.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send again to those a killed run may or may not have reached.",
)
@click.option(
    "--new-issue",
    is_flag=True,
    help="Send a rebuilt digest even to those who got an earlier build.",
)
@pass_state
def send(
    state: State,
    folder: str | None,
    config_path: str | None,
    to: tuple[str, ...],
    recipients: str | None,
    test_to: str | None,
    dry_run: bool,
    export_json: str | None,
    smtp_host: str | None,
    smtp_port: int | None,
    security: str | None,
    user: str | None,
    ca_file: str | None,
    rate: str | None,
    resend_uncertain: bool,
    new_issue: bool,
) -> None:
    """Send the built digest in FOLDER (default: out/) to each recipient, once."""
    from . import deliver

    if sum(map(bool, (to, recipients, test_to))) != 1:
        raise click.UsageError("give one of --to ADDR, --recipients FILE.csv or --test ADDR")
    config = state.config(
        config_path,
        **{
            "smtp.host": smtp_host,
            "smtp.port": smtp_port,
            "smtp.security": security,
            "smtp.user": user,
            "smtp.ca_file": ca_file,
            "smtp.rate": rate,
        },
    )
    plan = deliver.plan_send(config, folder or config.build.out, to, recipients, test_to)
    for message in plan.warnings:
        warn(message)
    if export_json:
        paths = deliver.export_json(plan, export_json)
        click.echo(f"Wrote {len(paths)} JSON payload(s) into {export_json}/")
        return
    with click.progressbar(
        length=len(plan.recipients), label="Writing" if dry_run else "Sending", file=sys.stderr
    ) as bar:
        report = deliver.run_send(
            plan,
            config.smtp,
            dry_run=dry_run,
            new_issue=new_issue,
            resend_uncertain=resend_uncertain,
            progress=lambda _: bar.update(1),
        )
    click.echo(report.summary())
    if not report.ok:
        click.get_current_context().exit(130 if report.interrupted else 1)


def main() -> None:  # pragma: no cover - the console script
    try:
        cli(prog_name="digest")
    except KeyboardInterrupt:  # Ctrl-C outside a command (say, while starting up)
        click.echo("error: interrupted; out/ was left as it was", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
