"""The `handledarbot` command: the one entry point that wires settings, core and adapters."""

# Each command imports what it needs when it runs, not this module: `health` or `kb validate`
# do not load the matching engine, the reminders or the web server, and `serve` loads the Slack
# and Teams adapters only when they are configured (`adapters.server`). The module docstring is
# the description `--help` prints.

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings, SettingsError, load_settings, setting_warnings
from bot.startup import (
    EXIT_CONFIGURATION,
    StartupError,
    check_knowledge_dir,
    check_sqlite,
    knowledge_variable,
    store_description,
)

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import Runtime
    from bot.messages import Reply
    from bot.ports import Sender
    from bot.service import Service

DEFAULT_MIN_SHARE = 0.95
ENV_FILE = ".env"
HEALTH_TIMEOUT = 5.0  # seconds

log = logging.getLogger("handledarbot")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status. A configuration or environment problem is one line per
    problem on stderr, naming the setting and what to do, and exit status 2."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(ENV_FILE)
    except SettingsError as error:
        for problem in error.problems:
            print(f"handledarbot: {problem}", file=sys.stderr)
        return EXIT_CONFIGURATION
    for warning in setting_warnings(ENV_FILE):
        print(f"handledarbot: warning: {warning}", file=sys.stderr)
    from_option = bool(getattr(args, "knowledge", None))
    if from_option:
        settings = settings.model_copy(update={"knowledge_dir": Path(args.knowledge)})
    try:
        if getattr(args, "needs_knowledge", False):
            check_knowledge_dir(settings, from_option=from_option)
        return int(args.run(args, settings) or 0)
    except StartupError as error:
        print(f"handledarbot: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except Exception as error:
        if not _is_knowledge_error(error):
            raise
        named = knowledge_variable(settings, from_option=from_option)
        print(
            f"The knowledge base cannot be loaded ({named}={settings.knowledge_dir}):\n{error}",
            file=sys.stderr,
        )
        return 1


def _is_knowledge_error(error: Exception) -> bool:
    """Whether `error` is the loader's `KnowledgeError`. A command that raised one has imported
    the loader; one that did not is spared importing it (and the knowledge schema) here."""
    loader = sys.modules.get("bot.knowledge.loader")
    return loader is not None and isinstance(error, loader.KnowledgeError)


def entry() -> None:
    """The `handledarbot` console script: `main`, then exit. After a start-up failure the
    process ends at once, even if a library left a worker thread behind (a half-opened SQLite
    connection would otherwise keep a process alive that never listens). Output piped into a
    reader that stops early (`| head`) ends the command quietly, as other Unix tools do."""
    try:
        status = main()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if status == EXIT_CONFIGURATION:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(status)
    sys.exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handledarbot", description=__doc__)
    parser.add_argument("--knowledge", metavar="DIR", help="knowledge base directory")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run_bot = sub.add_parser("run", help="serve Slack/Teams if configured, else the console chat")
    run_bot.set_defaults(run=_run, needs_knowledge=True, jsonl=False)

    chat = sub.add_parser("chat", help="chat in the console (the embedded default)")
    chat.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON object per reply on its own line, as `ask --json` prints (for scripts)",
    )
    chat.set_defaults(run=_chat, needs_knowledge=True)

    ask = sub.add_parser("ask", help="print the reply to one question ('-': one per stdin line)")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="one JSON object per reply")
    ask.set_defaults(run=_ask, needs_knowledge=True)

    evaluate = sub.add_parser("eval", help="run a question set and report the share right")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--min-share", type=float, default=DEFAULT_MIN_SHARE)
    evaluate.set_defaults(run=_eval, needs_knowledge=True)

    explain = sub.add_parser(
        "explain", help="show how a question is read and why it gets its reply (coordinators)"
    )
    explain.add_argument("question")
    explain.add_argument(
        "--after", metavar="QUESTION", help="a previous question, for a follow-up's context"
    )
    explain.set_defaults(run=_explain)

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
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes sharing the port (default HANDLEDARBOT_WORKERS, 1)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve, needs_knowledge=True)

    health = sub.add_parser(
        "health", help="exit 0 when the server on this machine answers GET /healthz"
    )
    health.set_defaults(run=_health)

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
    import asyncio

    from adapters import server
    from adapters.console import chat
    from bot.app import build_runtime
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

        page = asyncio.create_task(
            server.serve(
                settings,
                runtime.service,
                setup=setup,
                metrics=runtime.metrics,
                marks=runtime.shared.marks if runtime.shared else None,
                stop=stop,
                announce=announce,
            )
        )
        try:
            runtime.start()
            await asyncio.wait(
                [asyncio.ensure_future(listening.wait()), page],
                timeout=10,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if page.done() and page.exception() is not None:
                print(
                    f"Webbsidan kunde inte startas / the web page did not start: "
                    f"{page.exception()}\n",
                    file=sys.stderr,
                )
            await chat(runtime.service, delivered=printer)
        finally:
            stop.set()
            await asyncio.gather(page, return_exceptions=True)
            await runtime.aclose()

    asyncio.run(main())
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from adapters.console import chat
    from bot.app import build_runtime
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
    from bot import logs

    level = "WARNING" if quiet and "log_level" not in settings.model_fields_set else None
    logs.configure(format=settings.log_format, level=level or settings.log_level, secrets=secrets)


async def _ask_once(service: Service, text: str) -> Reply:
    """`text` through the service as the first message of a new conversation: nothing carried
    over from an earlier question, no clarification pending."""
    from bot.messages import Message

    message = Message(
        text=text, user_id="cli", conversation_id=f"cli-{uuid.uuid4().hex}", platform="cli"
    )
    return await service.handle(message)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    """Through the service (the patient-data guard first), each question its own conversation."""
    import asyncio

    from bot.app import build_batch_service

    service = build_batch_service(settings)

    async def main() -> None:
        if args.question != "-":
            _print_reply(await _ask_once(service, args.question), as_json=args.json, out=sys.stdout)
            return
        for line in sys.stdin:
            if line.strip():
                reply = await _ask_once(service, line.strip())
                _print_reply(reply, as_json=args.json, out=sys.stdout)

    asyncio.run(main())
    return 0


def _print_reply(reply: Reply, *, as_json: bool, out: TextIO) -> None:
    from adapters.console import reply_json
    from bot.render_text import render_text

    if as_json:
        print(json.dumps(reply_json(reply), ensure_ascii=False), file=out, flush=True)
    else:
        print(render_text(reply), file=out, flush=True)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    """Each question through the service as its own conversation, like `ask -`."""
    import asyncio

    from bot.app import build_batch_service
    from bot.evaluation import QuestionSetError, format_report, load_questions, run_async

    service = build_batch_service(settings)
    try:
        questions = load_questions(Path(args.file))
    except QuestionSetError as error:
        print(f"handledarbot: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    report = asyncio.run(run_async(lambda text: _ask_once(service, text), questions))
    print(format_report(report))
    failed = report.share_right < args.min_share or bool(report.out_of_scope_answered)
    return 1 if failed else 0


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    """Prints the words read and their concepts, the candidates with their scores, the rule
    that decided, and the reply."""
    from bot.app import build_engine

    engine = build_engine(settings)
    context = engine.answer(args.after).context if args.after else None
    print(engine.explain_text(args.question, context=context))
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.knowledge.loader import KnowledgeError, load_knowledge

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
        for problem in problems:
            print(f"handledarbot: {problem}", file=sys.stderr)
        return EXIT_CONFIGURATION

    workers = settings.workers if getattr(args, "workers", None) is None else args.workers
    if workers < 1:
        print("handledarbot: --workers must be at least 1.", file=sys.stderr)
        return EXIT_CONFIGURATION
    if workers > 1:
        from adapters import workers as supervisor

        if not settings.database_url:
            check_sqlite(settings.sqlite_path)  # once, before the workers open the file together
        return supervisor.run(
            settings, workers=workers, port=args.port, knowledge=getattr(args, "knowledge", None)
        )
    import asyncio

    from bot.app import build_runtime

    _configure_logs(settings)

    async def main() -> None:
        senders: dict[str, Sender] = {}
        runtime = await build_runtime(settings, senders, warm=True)
        adapters: list[str] = []

        def setup(app: web.Application) -> None:
            senders.update(server.senders(app))
            names: list[str] = app[server.ADAPTERS]
            adapters.extend(names)

        def announce(line: str) -> None:
            # Called once the port is bound: reminders and the knowledge watcher start only then.
            print(line, file=sys.stderr, flush=True)
            log.info(_started(settings, runtime, adapters))
            runtime.start()

        try:
            await server.serve(
                settings,
                runtime.service,
                setup=setup,
                metrics=runtime.metrics,
                marks=runtime.shared.marks if runtime.shared else None,
                announce=announce,
                reuse_port=getattr(args, "reuse_port", False),
            )
        finally:
            await runtime.aclose()

    asyncio.run(main())
    return 0


def _started(settings: Settings, runtime: Runtime, adapters: Sequence[str]) -> str:
    """The start-up log line: version, store, adapters, knowledge folder and version."""
    from bot import __version__

    return (
        f"handledarbot {__version__} started: store {store_description(settings)}; adapters "
        f"{', '.join(adapters) or 'none'}; knowledge {settings.knowledge_dir.resolve()} "
        f"(version {runtime.service.engine.version}); listening on {settings.host}:{settings.port}"
    )


def _health(args: argparse.Namespace, settings: Settings) -> int:
    """The container's HEALTHCHECK: GET /healthz on the configured port of this machine."""
    import urllib.error
    import urllib.request

    host = settings.host.strip("[]")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT) as response:
            print(response.read().decode("utf-8", "replace"))
            return 0
    except (OSError, urllib.error.URLError) as error:
        print(f"handledarbot health: {url}: {error}", file=sys.stderr)
        return 1


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
    import asyncio

    from bot.app import build_engine
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
        engine = build_engine(settings)
        return format_report(
            questions, ratings, days=days, lang=args.lang, nearest=engine.nearest_entry
        )

    print(asyncio.run(main()))
    return 0


def _teams_package(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.teams_package import build_package

    try:
        build_package(settings, args.out)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    entry()
