"""The `qa` command: a thin click layer over the library; nothing imports it.

Each command reads its options, calls the service, indexer or evaluation, and prints. Errors are the library's
(core.errors), turned into the contract's exit codes here and nowhere else: 0 done, 1 failed, 2 usage or
configuration.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import click

from cli.feedback import feedback
from core.errors import ConfigError, GoldFileError, InvalidRequest, QAError, lookup
from core.lexicon import long_date
from core.records import Answer, DocType, DocumentRecord, RegisterStatus, SearchFilters
from core.settings import DEFAULT_CONFIG_NAME, Settings, load_settings
from indexer.embed import TextEmbedder
from qa.citations import section_words

if TYPE_CHECKING:
    from qa.service import QAService

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Error class -> exit code (../shared/contract.md): 2 for what the user must change in how they ran `qa` or in the
# config, 1 for every other failure. A class not listed takes its nearest listed ancestor's (core.errors draws
# the tree).
EXIT_CODES: dict[type[QAError], int] = {
    QAError: EXIT_FAILED,
    ConfigError: EXIT_USAGE,
    InvalidRequest: EXIT_USAGE,
    GoldFileError: EXIT_USAGE,
}
log = logging.getLogger("qa")


def exit_code_of(error: QAError) -> int:
    """The exit code for an error: its class's in EXIT_CODES, else its nearest ancestor's."""
    return lookup(EXIT_CODES, error, EXIT_FAILED)


class QAGroup(click.Group):
    """Runs a command; a QAError becomes `qa: <message>` on stderr and its exit code, anything else a short
    "internal error" line (the traceback with QA_DEBUG=1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as exc:
            # A config error can name several fields, one a line: they start on a line of their own.
            click.echo(f"qa: config error:\n{exc}" if isinstance(exc, ConfigError) else f"qa: {exc}", err=True)
            ctx.exit(exit_code_of(exc))
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader went away (`qa ask ... | head -1`): not an error of ours. Output to it is dropped, so that
            # flushing at exit does not fail again.
            with contextlib.suppress(OSError, ValueError):  # a stdout without a file descriptor (a test's capture)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            if os.environ.get("QA_DEBUG"):
                raise
            click.echo(f"qa: internal error: {type(exc).__name__}: {exc} (QA_DEBUG=1 shows the traceback)", err=True)
            ctx.exit(EXIT_FAILED)


class AppContext:
    """What every command shares: the settings (loaded once, on first use) and the embedder to use.

    `embedder` is None for the real model; tests pass a fake through `cli.main(obj=AppContext(...))`.
    """

    def __init__(self, config_file: Path | None = None, embedder: TextEmbedder | None = None):
        self.config_file = config_file
        self.embedder = embedder
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings

    def service(self) -> QAService:
        from qa.service import QAService

        return QAService(self.settings, embedder=self.embedder)


@click.group(cls=QAGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: $QA_CONFIG, else ./config.toml).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Question answering over council committee papers."""
    if isinstance(ctx.obj, AppContext):  # given by a caller (a test), keeping its embedder
        ctx.obj.config_file = config_file or ctx.obj.config_file
    else:
        ctx.obj = AppContext(config_file)


class _IndexProgress:
    """On a terminal, a files bar with running page and passage counts (on stderr); anywhere else (a pipe, a log,
    CI), plain lines on stderr: each stage as it starts, and a line per file with its pages and passages."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.lines = not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
        self.bar = tqdm(total=0, unit="file", desc="Indexing", file=sys.stderr, dynamic_ncols=True, disable=self.lines)
        self.total = self.done = self.pages = self.passages = 0

    def _say(self, line: str) -> None:
        click.echo(line, err=True)

    def files_found(self, total: int) -> None:
        self.total = total
        if self.lines:
            self._say(f"Indexing {total} file{'' if total == 1 else 's'}")
        else:
            self.bar.reset(total=total)

    def file_started(self, path: Path) -> None:
        self.bar.set_description_str(f"Indexing {path.name[:40]}")

    def file_done(self, path: Path, pages: int, passages: int) -> None:
        self.done += 1
        self.pages += pages
        self.passages += passages
        if self.lines:
            # The indexer reports an unchanged file and a failed one alike (no pages); the summary names the failures.
            counts = f"{pages} pages, {passages} passages" if pages else "unchanged or skipped"
            self._say(f"[{self.done}/{self.total}] {path.name}: {counts}")
        else:
            self.bar.set_postfix(pages=self.pages, passages=self.passages)
            self.bar.update(1)

    def stage(self, what: str) -> None:
        if self.lines:
            self._say(f"  {what}")
        else:
            self.bar.set_description_str(what[:60].capitalize())

    def close(self) -> None:
        self.bar.close()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Start clean: re-read and re-embed every file.")
@click.pass_obj
def index(obj: AppContext, paths: tuple[Path, ...], rebuild: bool) -> None:
    """Index PDFs, text and Markdown files (default: the paths in the config)."""
    from indexer.pipeline import Indexer

    settings = obj.settings
    targets = list(paths) or list(settings.index.paths)
    if not targets:
        where = (
            f"in {settings.config_file}"
            if settings.config_file
            else f"(no {DEFAULT_CONFIG_NAME} in {Path.cwd()}, and neither --config nor QA_CONFIG names one)"
        )
        raise click.UsageError(f"no PATH given and index.paths is empty {where}")
    progress = _IndexProgress()
    try:
        report = Indexer(settings, embedder=obj.embedder, progress=progress).run(targets, rebuild=rebuild)
    finally:
        progress.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning.path}: {warning.reason}", err=True)
    for failure in report.failed:
        click.echo(f"failed: {failure.path}: {failure.reason}", err=True)
    click.echo(
        f"indexed {len(report.indexed)}, unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"failed {len(report.failed)}; {report.pages} pages, {report.passages} passages ({report.embedded} newly "
        f"embedded, {report.vectors_written} written to the vector store) in {report.seconds:.1f}s"
    )
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def docs(obj: AppContext, as_json: bool) -> None:
    """List the indexed documents."""
    from indexer.stores import IndexStore

    manifest = IndexStore(obj.settings).manifest()
    if as_json:
        click.echo(json.dumps({"documents": [d.model_dump(mode="json") for d in manifest.documents]}, indent=2))
        return
    if not manifest.documents:
        click.echo("No documents indexed. Run `qa index`.")
        return
    _docs_table(manifest.documents)


DOCS_WIDTH = 100  # `qa docs` never prints wider than this, nor wider than the terminal


def _docs_table(documents: list[DocumentRecord]) -> None:
    """The documents as a table at most DOCS_WIDTH columns wide, long cells wrapped on word boundaries."""
    import shutil

    from rich import box
    from rich.console import Console
    from rich.table import Table

    width = min(DOCS_WIDTH, shutil.get_terminal_size((DOCS_WIDTH, 24)).columns)
    # A blank line between rows (show_lines with this box) keeps wrapped rows apart; no outer edge.
    table = Table(box=box.SIMPLE_HEAD, show_lines=True, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("file", ratio=3, overflow="fold")  # "fold" only breaks a word longer than the column
    table.add_column("title", ratio=4, overflow="fold")
    table.add_column("committee", ratio=3, overflow="fold")
    table.add_column("meeting", no_wrap=True)
    table.add_column("pages", justify="right", no_wrap=True)
    table.add_column("passages", justify="right", no_wrap=True)
    for doc in documents:
        meeting = str(doc.meeting_date or doc.period or "-")
        access = (
            "\nRESTRICTED"
            if doc.restricted
            else f"\nexempt item {', '.join(doc.restricted_items)}"
            if doc.restricted_items
            else ""
        )
        table.add_row(doc.file + access, doc.title, doc.committee or "-", meeting, str(doc.pages), str(doc.passages))
    Console(width=width, highlight=False, soft_wrap=False).print(table)


def _print_answer(answer: Answer) -> None:
    if answer.searched_for:
        click.echo(f"(searched for: {answer.searched_for})")
    click.echo(answer.answer)
    listed = answer.citations or answer.see_also
    if listed:
        click.echo("\nSee also:" if answer.abstained else "")
    for c in listed:
        where = [section_words(c.section) or c.document.title]
        if c.meeting_date:
            where.append(f"meeting of {long_date(c.meeting_date)}")
        where.append(c.page_words)
        click.echo(f"[{c.n}] “{c.quote}”")
        restricted = " · RESTRICTED: members only" if c.restricted else ""
        click.echo(f"    {' · '.join(where)} · {c.document.file} (PDF page {c.page}){restricted}")


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the /ask JSON response.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or after YYYY-MM-DD.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or before YYYY-MM-DD.")
@click.option("--top-k", type=click.IntRange(1, 50), help="Passages to answer from.")
@click.option("--committee", help="Only this committee's papers.")
@click.option(
    "--doc-type",
    type=click.Choice(list(get_args(DocType))),
    help="Only agenda packs, printed minutes or standalone reports.",
)
@click.option("--document", help="Only this document (its id or file name).")
@click.option(
    "--role",
    type=click.Choice(["reader", "member", "editor"]),
    default="member",
    show_default=True,
    help="Answer as a key with this role would be answered: a reader sees public papers only.",
)
@click.pass_obj
def ask(
    obj: AppContext,
    question: str,
    as_json: bool,
    since: Any,
    until: Any,
    top_k: int | None,
    committee: str | None,
    doc_type: str | None,
    document: str | None,
    role: str,
) -> None:
    """Answer QUESTION from the papers; QUESTION '-' answers one question per stdin line."""
    if not question.strip():
        raise click.UsageError("QUESTION is empty; ask a question, or give '-' to read questions from stdin")
    filters = SearchFilters.model_validate(
        {
            "since": since and since.date(),
            "until": until and until.date(),
            "committee": committee,
            "doc_type": doc_type,
            "document": document,
        }
    )
    service = obj.service()
    # From stdin every line gets exactly one response, so callers can pair them up.
    questions: Iterator[str] = (line.rstrip("\n") for line in sys.stdin) if question == "-" else iter([question])
    for text in questions:
        answer = service.ask(text, filters, top_k, members=role != "reader")
        if as_json:
            click.echo(answer.model_dump_json())
        else:
            _print_answer(answer)


@cli.command()
@click.argument("topic", default="")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or after YYYY-MM-DD.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or before YYYY-MM-DD.")
@click.option("--status", type=click.Choice(get_args(RegisterStatus)), help="Only decisions with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def decisions(
    obj: AppContext, topic: str, since: dt.datetime | None, until: dt.datetime | None, status: str | None, as_json: bool
) -> None:
    """What the committee decided about TOPIC: the decision register's entries, each numbered resolution on its
    own, oldest first. Without TOPIC, every decision within the dates (e.g. everything deferred since May)."""
    filters = SearchFilters(since=since.date() if since else None, until=until.date() if until else None)
    found = obj.service().decisions(topic, filters, status)
    if as_json:
        click.echo(json.dumps({"topic": topic, "decisions": [d.model_dump(mode="json") for d in found]}, indent=2))
        return
    if not found:
        about = f" about {topic!r}" if topic.strip() else ""
        click.echo(f"No decisions{about} were found in the minutes indexed here.")
    for d in found:
        when = long_date(d.meeting_date) if d.meeting_date else "undated"
        where = section_words(d.section) or "minutes"
        click.echo(f"{when} · {where} · {d.status} · {d.page_words} of {d.document.file}")
        click.echo(f"    {d.text}")
        for follow in d.follow_ups:
            click.echo(f"    next: {follow.explanation}")


@cli.command()
@click.option("--host", help="Interface to listen on (default: api.host in the config, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: api.port in the config, 8000).")
@click.pass_obj
def serve(obj: AppContext, host: str | None, port: int | None) -> None:
    """Serve the HTTP API over the current index."""
    import uvicorn

    from api.app import create_app

    settings = obj.settings
    service = obj.service()
    service.warm_up()  # the first question is then as fast as the rest
    app = create_app(settings, service)
    host, port = host or settings.api.host, port or settings.api.port
    click.echo(
        f"Serving at http://{host}:{port}: the chat widget demo at /, API docs at /docs. Ctrl-C stops it.", err=True
    )
    service_logging()
    # Uvicorn's own access log would write query strings (topics, quotes); api.app logs each request instead.
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


# The project's own packages log at INFO in the service (a line a request, indexing jobs); libraries at WARNING.
OWN_LOGGERS = ("api", "qa", "indexer", "core")
LOG_FORMAT = "%(levelname)-9s %(name)s: %(message)s"


def service_logging() -> None:
    """Where `qa serve` logs go: standard error, the project's INFO lines included (Python's default would drop
    them: nothing gives the root logger a handler), libraries' warnings and errors as before. Once per process."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(getattr(h, "qa_service", False) for h in logger.handlers):
            handler.qa_service = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # written once, here, not again by the root logger's handler


@cli.command("eval")
@click.option("--gate", is_flag=True, help="Exit 1 when any metric misses its threshold in config.toml [eval.gate].")
@click.option(
    "--compare",
    "compare_with",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An earlier report .json to show deltas against (default: eval.compare_with).",
)
@click.option("--naive/--no-naive", "with_naive", default=None, help="Also score the naive llama-index pipeline.")
@click.pass_obj
def evaluate(obj: AppContext, gate: bool, compare_with: Path | None, with_naive: bool | None) -> None:
    """Score answers on the gold questions; write JSON and Markdown reports."""
    from tqdm import tqdm

    from eval.gold import load_eval_gold
    from eval.report import summary_markdown
    from eval.run import run_eval

    settings = obj.settings
    gold = load_eval_gold(settings.eval.gold_file, settings.eval.blind_file)
    naive = settings.eval.naive if with_naive is None else with_naive
    with tqdm(total=len(gold) * (2 if naive else 1), unit="question", file=sys.stderr, disable=None) as bar:
        outcome = run_eval(
            settings, compare_with, with_naive, progress=lambda: bar.update(1), gold=gold, embedder=obj.embedder
        )
    click.echo(summary_markdown(outcome.report).rstrip())
    click.echo(f"\nreport: {outcome.json_path} and {outcome.markdown_path}")
    if gate and outcome.gate_failures:
        click.echo("qa: eval gate failed: " + "; ".join(outcome.gate_failures), err=True)
        sys.exit(EXIT_FAILED)


cli.add_command(feedback)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
