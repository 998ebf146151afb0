"""The `qa` command: a thin click layer over the library functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from qa.models import long_date
from qa.settings import ConfigError, Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Context:
    def __init__(self, config_file: Path | None):
        self.config_file = config_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_file)
            except ConfigError as exc:
                click.echo(f"qa: config error:\n{exc}", err=True)
                sys.exit(EXIT_USAGE)
        return self._settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: $QA_CONFIG, else ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Question answering over council committee papers."""
    ctx.obj = _Context(config_file)


class _TqdmProgress:
    """A files bar with running page and passage counts."""

    def __init__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="file", desc="Indexing", file=sys.stderr, dynamic_ncols=True,
                        disable=None)  # None: shown on a terminal only
        self.pages = 0
        self.passages = 0

    def files_found(self, total: int) -> None:
        self.bar.reset(total=total)

    def file_started(self, path: Path) -> None:
        self.bar.set_description_str(f"Indexing {path.name[:40]}")

    def file_done(self, path: Path, pages: int, passages: int) -> None:
        self.pages += pages
        self.passages += passages
        self.bar.set_postfix(pages=self.pages, passages=self.passages)
        self.bar.update(1)

    def stage(self, what: str) -> None:
        self.bar.set_description_str(what[:60].capitalize())

    def close(self) -> None:
        self.bar.close()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Start clean: re-read and re-embed every file.")
@click.pass_obj
def index(obj: _Context, paths: tuple[Path, ...], rebuild: bool) -> None:
    """Index PDFs, text and Markdown files (default: the paths in the config)."""
    from indexer.pipeline import Indexer, IndexBusyError

    settings = obj.settings
    targets = list(paths) or list(settings.index.paths)
    if not targets:
        raise click.UsageError("no PATH given and index.paths is empty in the config")
    progress = _TqdmProgress()
    try:
        report = Indexer(settings, progress=progress).run(targets, rebuild=rebuild)
    except IndexBusyError as exc:
        click.echo(f"qa: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        progress.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning.path}: {warning.reason}", err=True)
    for failure in report.failed:
        click.echo(f"failed: {failure.path}: {failure.reason}", err=True)
    click.echo(
        f"indexed {len(report.indexed)}, unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"failed {len(report.failed)}; {report.pages} pages, {report.passages} passages in {report.seconds:.1f}s"
    )
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def docs(obj: _Context, as_json: bool) -> None:
    """List the indexed documents."""
    from indexer.stores import IndexStore

    manifest = IndexStore(obj.settings).manifest()
    if as_json:
        click.echo(json.dumps({"documents": [d.model_dump(mode="json") for d in manifest.documents]}, indent=2))
        return
    if not manifest.documents:
        click.echo("No documents indexed. Run `qa index`.")
        return
    rows = [("file", "title", "committee", "meeting", "pages", "passages")]
    for doc in manifest.documents:
        rows.append((doc.file, doc.title, doc.committee or "-", str(doc.meeting_date or doc.period or "-"),
                     str(doc.pages), str(doc.passages)))
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def _service(settings: Settings):
    from qa.service import QAService

    return QAService(settings)


def _print_answer(answer) -> None:
    click.echo(answer.answer)
    listed = answer.citations or answer.see_also
    if listed:
        click.echo("\nSee also:" if answer.abstained else "")
    for c in listed:
        where = [c.section or c.document.title]
        if c.meeting_date:
            where.append(f"meeting of {long_date(c.meeting_date)}")
        where.append(c.page_words)
        click.echo(f"[{c.n}] “{c.quote}”")
        click.echo(f"    {' · '.join(where)} · {c.document.file} (PDF page {c.page})")


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the /ask JSON response.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or after YYYY-MM-DD.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only meetings on or before YYYY-MM-DD.")
@click.option("--top-k", type=click.IntRange(1, 50), help="Passages to answer from.")
@click.option("--committee", help="Only this committee's papers.")
@click.option("--doc-type", type=click.Choice(["agenda_pack", "report"]), help="Only agenda packs or only reports.")
@click.option("--document", help="Only this document (its id or file name).")
@click.pass_obj
def ask(obj: _Context, question: str, as_json: bool, since, until, top_k: int | None, committee: str | None,
        doc_type: str | None, document: str | None) -> None:
    """Answer QUESTION from the papers; QUESTION '-' answers one question per stdin line."""
    from qa.models import SearchFilters
    from qa.service import NotIndexedError

    if not question.strip():
        raise click.UsageError("QUESTION is empty; ask a question, or give '-' to read questions from stdin")
    filters = SearchFilters(since=since and since.date(), until=until and until.date(), committee=committee,
                            doc_type=doc_type, document=document)
    service = _service(obj.settings)
    # From stdin every line gets exactly one response, so callers can pair them up.
    questions = (line.rstrip("\n") for line in sys.stdin) if question == "-" else iter([question])
    try:
        for text in questions:
            answer = service.ask(text, filters, top_k)
            if as_json:
                click.echo(answer.model_dump_json())
            else:
                _print_answer(answer)
    except NotIndexedError as exc:
        click.echo(f"qa: {exc}", err=True)
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("topic")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def decisions(obj: _Context, topic: str, as_json: bool) -> None:
    """What the committee decided about TOPIC, oldest first."""
    from qa.service import NotIndexedError

    try:
        found = _service(obj.settings).decisions(topic)
    except NotIndexedError as exc:
        click.echo(f"qa: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps({"topic": topic, "decisions": [d.model_dump(mode="json") for d in found]}, indent=2))
        return
    if not found:
        click.echo(f"No decisions about {topic!r} were found in the minutes indexed here.")
    for d in found:
        when = long_date(d.meeting_date) if d.meeting_date else "undated"
        click.echo(f"{when} · {d.section or 'minutes'} · {d.status} · {d.page_words} of {d.document.file}")
        click.echo(f"    {d.text}")


@cli.command()
@click.option("--host", help="Interface to listen on (default: api.host in the config, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: api.port in the config, 8000).")
@click.pass_obj
def serve(obj: _Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API over the current index."""
    import uvicorn

    from api.app import create_app

    settings = obj.settings
    app = create_app(settings)
    app.state.service.warm_up()  # the first question is then as fast as the rest
    host, port = host or settings.api.host, port or settings.api.port
    click.echo(f"Serving on http://{host}:{port}: the chat widget demo at /, API docs at /docs. Ctrl-C stops it.", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


@cli.command("eval")
@click.option("--gate", is_flag=True, help="Exit 1 when any metric misses its threshold in config.toml [eval.gate].")
@click.option("--compare", "compare_with", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier report .json to show deltas against (default: eval.compare_with).")
@click.option("--naive/--no-naive", "with_naive", default=None, help="Also score the naive llama-index pipeline.")
@click.pass_obj
def evaluate(obj: _Context, gate: bool, compare_with: Path | None, with_naive: bool | None) -> None:
    """Score answers on the gold questions; write JSON and Markdown reports."""
    from tqdm import tqdm

    from eval.gold import load_gold
    from eval.report import summary_markdown
    from eval.run import run_eval

    settings = obj.settings
    try:
        gold = load_gold(settings.eval.gold_file)
    except (OSError, ValueError) as exc:
        click.echo(f"qa: gold questions: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    naive = settings.eval.naive if with_naive is None else with_naive
    with tqdm(total=len(gold) * (2 if naive else 1), unit="question", file=sys.stderr, disable=None) as bar:
        try:
            outcome = run_eval(settings, compare_with, with_naive, progress=lambda: bar.update(1), gold=gold)
        except RuntimeError as exc:
            click.echo(f"qa: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(summary_markdown(outcome.report).rstrip())
    click.echo(f"\nreport: {outcome.json_path} and {outcome.markdown_path}")
    if gate and outcome.gate_failures:
        click.echo("qa: eval gate failed: " + "; ".join(outcome.gate_failures), err=True)
        sys.exit(EXIT_FAILED)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
