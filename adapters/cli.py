"""The `handledarbot` command: the one entry point that wires settings, core and adapters."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from adapters.console import reply_json
from bot import logs
from bot.app import build_engine, build_runtime
from bot.evaluation import format_report, load_questions, run
from bot.knowledge.loader import KnowledgeError, load_knowledge
from bot.matching import Engine
from bot.messages import Reply
from bot.ports import Sender
from bot.render_text import render_text
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_MIN_SHARE = 0.95


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    if getattr(args, "knowledge", None):
        settings = settings.model_copy(update={"knowledge_dir": Path(args.knowledge)})
    try:
        return int(args.run(args, settings) or 0)
    except KnowledgeError as error:
        print(f"The knowledge base cannot be loaded:\n{error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handledarbot", description=__doc__)
    parser.add_argument("--knowledge", metavar="DIR", help="knowledge base directory")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run_bot = sub.add_parser("run", help="serve Slack/Teams if configured, else the console chat")
    run_bot.set_defaults(run=_run)

    chat = sub.add_parser("chat", help="chat in the console (the embedded default)")
    chat.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON object per reply on its own line, as `ask --json` prints (for scripts)",
    )
    chat.set_defaults(run=_chat)

    ask = sub.add_parser("ask", help="print the reply to one question ('-': one per stdin line)")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="one JSON object per reply")
    ask.set_defaults(run=_ask)

    evaluate = sub.add_parser("eval", help="run a question set and report the share right")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--min-share", type=float, default=DEFAULT_MIN_SHARE)
    evaluate.set_defaults(run=_eval)

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(required=True, metavar="ACTION")
    validate = kb_sub.add_parser("validate", help="check the knowledge base; exit 1 on problems")
    validate.add_argument("directory", nargs="?", type=Path)
    validate.set_defaults(run=_validate)
    lint = kb_sub.add_parser(
        "lint", help="stale entries, missing English, bad links ...; exit 1 on findings"
    )
    lint.add_argument("directory", nargs="?", type=Path)
    lint.add_argument("--months", type=int, default=12, help="reviewed at most this long ago")
    lint.add_argument("--questions", type=Path, help="question set (default DIR/eval/...)")
    lint.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    lint.add_argument(
        "--ignore", action="append", default=[], metavar="KEY", help="a finding accepted"
    )
    lint.set_defaults(run=_lint)

    report = sub.add_parser("report", help="reports for coordinators")
    report_sub = report.add_subparsers(required=True, metavar="REPORT")
    unanswered = report_sub.add_parser(
        "unanswered", help="unanswered questions grouped by similarity, and answer ratings"
    )
    unanswered.add_argument("--lang", choices=("sv", "en"), default="sv")
    unanswered.set_defaults(run=_report_unanswered)

    serve = sub.add_parser("serve", help="serve Slack, Teams and the web chat page over HTTP")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    package = sub.add_parser("teams-package", help="write the Teams app package (zip)")
    package.add_argument("--out", type=Path, default=Path("handledarbot-teams.zip"))
    package.set_defaults(run=_teams_package)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """Slack or Teams configured: the server. Otherwise the embedded default, the console chat,
    and, for a person at a terminal, the web chat page beside it in the same process."""
    platforms = settings.slack_bot_token or settings.slack_app_token or settings.microsoft_app_id
    if platforms or settings.teams_enabled:
        args.port = None
        return _serve(args, settings)
    if sys.stdin.isatty() and settings.web_enabled is not False:
        return _chat_and_page(settings.model_copy(update={"web_enabled": True}))
    return _chat(args, settings)


def _chat_and_page(settings: Settings) -> int:
    from adapters import server
    from adapters.console import chat
    from bot.reminders.console_sender import ConsoleSender

    _configure_logs(settings, quiet=True)

    async def main() -> None:
        printer = ConsoleSender()
        senders: dict[str, Sender] = {"console": printer}
        runtime = await build_runtime(settings, senders)
        stop = asyncio.Event()

        def setup(app: web.Application) -> None:
            senders.update(server.senders(app))

        listening = asyncio.Event()

        def announce(line: str) -> None:
            url = line.split("listening on ", 1)[-1].split(" ", 1)[0].split(",")[0]
            print(f"Webbsidan / the web page: {url}/  (Ctrl-D eller 'avsluta' avslutar)\n")
            listening.set()

        page = asyncio.create_task(server.serve(
            settings, runtime.service, setup=setup, metrics=runtime.metrics, stop=stop,
            announce=announce))
        try:
            runtime.start()
            await asyncio.wait([asyncio.ensure_future(listening.wait()), page], timeout=10,
                               return_when=asyncio.FIRST_COMPLETED)
            if page.done() and page.exception() is not None:
                print(f"Webbsidan kunde inte startas / the web page did not start: "
                      f"{page.exception()}\n", file=sys.stderr)
            await chat(runtime.service, delivered=printer)
        finally:
            stop.set()
            await asyncio.gather(page, return_exceptions=True)
            await runtime.aclose()

    asyncio.run(main())
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import chat
    from bot.reminders.console_sender import ConsoleSender

    _configure_logs(settings, quiet=True)

    async def main() -> None:
        printer = ConsoleSender()
        runtime = await build_runtime(settings, {"console": printer})
        try:
            runtime.start()
            await chat(runtime.service, delivered=printer, jsonl=args.jsonl)
        finally:
            await runtime.aclose()

    asyncio.run(main())
    return 0


def _configure_logs(settings: Settings, *, quiet: bool = False) -> None:
    """Logs to stderr; the console chat (`quiet`) shows only warnings unless a level is set."""
    secrets = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.microsoft_app_password,
        settings.metrics_token,
        settings.database_url,
    )
    level = "WARNING" if quiet and "log_level" not in settings.model_fields_set else None
    logs.configure(format=settings.log_format, level=level or settings.log_level, secrets=secrets)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = build_engine(settings)
    if args.question == "-":
        for line in sys.stdin:
            if line.strip():
                _print_reply(engine.answer(line.strip()), as_json=args.json, out=sys.stdout)
        return 0
    _print_reply(engine.answer(args.question), as_json=args.json, out=sys.stdout)
    return 0


def _print_reply(reply: Reply, *, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(reply_json(reply), ensure_ascii=False), file=out, flush=True)
    else:
        print(render_text(reply), file=out, flush=True)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    engine: Engine = build_engine(settings)
    report = run(engine.answer, load_questions(args.file))
    print(format_report(report))
    failed = report.share_right < args.min_share or bool(report.out_of_scope_answered)
    return 1 if failed else 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    directory = args.directory or settings.knowledge_dir
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as error:
        print(f"{len(error.problems)} problem(s) in {directory}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"{directory}: OK — {len(knowledge.entries)} entries, {len(knowledge.concepts)} "
        f"concepts, {len(knowledge.topics)} topics, version {knowledge.version}"
    )
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from adapters import server

    if args.port is not None:
        settings = settings.model_copy(update={"port": args.port})
    problems = server.validate(settings)
    if problems:
        print("Cannot start: " + "; ".join(problems), file=sys.stderr)
        return 2

    _configure_logs(settings)

    async def main() -> None:
        senders: dict[str, Sender] = {}
        runtime = await build_runtime(settings, senders)

        def setup(app: web.Application) -> None:
            senders.update(server.senders(app))

            async def start(_: web.Application) -> None:
                runtime.start()

            app.on_startup.append(start)

        try:
            await server.serve(settings, runtime.service, setup=setup, metrics=runtime.metrics)
        finally:
            await runtime.aclose()

    asyncio.run(main())
    return 0


def _lint(args: argparse.Namespace, settings: Settings) -> int:
    from bot.knowledge.lint import lint

    directory = args.directory or settings.knowledge_dir
    findings = lint(
        directory,
        today=args.today or date.today(),
        months=args.months,
        questions=args.questions,
        ignore=args.ignore,
    )
    for finding in findings:
        print(f"{finding}  (--ignore {finding.key})")
    if findings:
        print(f"{len(findings)} finding(s) in {directory}", file=sys.stderr)
        return 1
    print(f"{directory}: no findings")
    return 0


def _report_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reminders.clock import SystemClock
    from bot.report import format_report
    from bot.unanswered import open_feedback_store

    async def main() -> str:
        store = await open_feedback_store(settings, clock=SystemClock())
        try:
            questions, ratings = await store.questions(), await store.ratings()
        finally:
            await store.close()
        days = settings.unanswered_retention_days
        return format_report(questions, ratings, days=days, lang=args.lang)

    print(asyncio.run(main()))
    return 0


def _teams_package(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.teams_package import build_package

    build_package(settings, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
