"""The web chat end to end in headless Chromium (Debian's `chromium`, driven by Playwright with the
system browser) against the page served on 127.0.0.1 with the real Service and knowledge base.

Saves screenshots to test-artifacts/ (gitignored) so the page can be looked at. Fails, never skips,
when the browser or Playwright is missing: CI installs both (see docs/web.md).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters import web as web_chat
from bot.app import build_service
from bot.messages import Option, Reply, Status
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = (
    "install it with `apt-get update && apt-get install -y chromium chromium-driver` and "
    "`.venv/bin/pip install playwright` (the system browser is used: never `playwright install`)"
)
SKOLVERKET = "Hur lång är Skolverkets handledarutbildning?"
AMBIGUOUS = "Hur lång är handledarutbildningen?"
WAIT = 15_000  # milliseconds for the page to show something

pytestmark = pytest.mark.slow


def _chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        pytest.fail(f"Chromium is missing ({CHROMIUM}): {INSTALL}", pytrace=False)
    return found


@dataclass
class Site:
    url: str
    app: web.Application


@pytest.fixture
async def site(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    """The page on 127.0.0.1:<free port>; `indirect` parametrization overrides settings."""
    settings = load_settings(env_file=None).model_copy(update=getattr(request, "param", {}))
    app = web.Application()
    web_chat.mount(app, settings=settings, service=build_service(settings))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield Site(f"http://127.0.0.1:{runner.addresses[0][1]}/", app)
    await runner.cleanup()


@pytest.fixture
async def page(site: Site) -> AsyncIterator[Any]:
    executable = _chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(f"Playwright is missing: {INSTALL}", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 900, "height": 1100}, locale="sv-SE")
        opened = await context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        outside: list[str] = []
        opened.on(
            "request", lambda r: None if r.url.startswith(site.url) else outside.append(r.url)
        )
        await opened.goto(site.url)
        await expect(opened.locator(".msg.welcome")).to_contain_text("Handledarbot", timeout=WAIT)
        yield opened
        await browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"
        assert [u for u in outside if not u.startswith(("data:", "blob:"))] == []


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def send(page: Any, text: str) -> None:
    box = page.get_by_label("Din fråga")
    await box.fill(text)
    await box.press("Enter")


async def test_question_shows_the_answer_with_course_facts_and_source(page: Any) -> None:
    before = await page.locator(".msg.bot").count()
    await send(page, SKOLVERKET)
    answer = page.locator(".msg.bot").nth(before)
    await expect(answer).to_contain_text("5–6 timmar", timeout=WAIT)
    await expect(answer.locator(".course dt").first).to_be_visible()
    await expect(answer.locator(".course")).to_contain_text("Omfattning")
    source = answer.locator(".source").first
    await expect(source).to_contain_text("Källa: ")
    await expect(source).to_contain_text("källans datum: sidan senast granskad 18 december 2023")
    await expect(source).to_contain_text("Gäller: Region Stockholm; svaret kontrollerat mot källan ")
    assert (await source.locator("a").get_attribute("href") or "").startswith("https://")
    await expect(page.locator(".msg.user").last).to_have_text(f"Du: {SKOLVERKET}")
    assert await page.evaluate("document.activeElement.id") == "question"
    assert await page.get_by_label("Din fråga").input_value() == ""
    await expect(page.locator("#log")).to_have_attribute("aria-live", "polite")


async def test_clicking_a_clarifying_option_shows_the_answer(page: Any) -> None:
    await send(page, AMBIGUOUS)
    option = page.locator(".msg.bot .option", has_text="Skolverket")
    await expect(option).to_be_visible(timeout=WAIT)
    await option.click()
    answer = page.locator(".msg.bot.status-answer").last
    await expect(answer).to_contain_text("5–6 timmar", timeout=WAIT)
    await expect(page.locator(".msg.user").last).to_contain_text("Skolverket")
    await expect(page.get_by_label("Din fråga")).to_be_focused()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-chat.png"))
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.locator(".msg.bot.status-answer").last.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "web-chat-phone.png"))


async def test_markup_typed_by_the_user_is_shown_as_text_and_never_run(page: Any) -> None:
    attacks = ["<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=1</script>"]
    for attack in attacks:
        replies = await page.locator(".msg.bot").count()
        await send(page, attack)
        await expect(page.locator(".msg.user").last).to_have_text(f"Du: {attack}")
        await expect(page.locator(".msg.bot")).to_have_count(replies + 1, timeout=WAIT)
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    assert await page.locator("#log img, #log script").count() == 0
    for attack in attacks:
        await expect(page.get_by_text(attack, exact=True)).to_be_visible()


@pytest.mark.parametrize("site", [{"web_coordinator": True}], indirect=True)
async def test_coordinator_mode_shows_the_matched_entry_and_score(page: Any) -> None:
    await expect(page.locator("#coordinator")).to_be_visible()
    await send(page, SKOLVERKET)
    line = page.locator(".msg.bot.status-answer .coordinator-line").last
    await expect(line).to_contain_text("Post: course-skolverket · poäng ", timeout=WAIT)
    await send(page, "Vad kostar en glass i Paris?")
    miss = page.locator(".msg.bot.status-no_match").last
    await expect(miss).to_contain_text("Fråga gärna", timeout=WAIT)
    await expect(miss.locator(".coordinator-line")).to_have_text("ingen post matchade · no_match")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-chat-coordinator.png"))


async def test_a_reminder_sent_by_the_bot_appears_with_its_buttons(page: Any, site: Site) -> None:
    reminder = Reply(
        Status.ANSWER,
        "sv",
        ("Påminnelse: handledning med Anna <b>i dag</b> kl. 09:00.",),
        options=(Option("Påminn om en timme", "reminder:snooze:1:2:3:3600"),),
        kind="reminder",
    )
    await site.app[web_chat.WEB_SENDER].send('{"user": "local"}', reminder)
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    shown = page.locator(".msg.bot", has_text="Påminnelse: handledning med Anna")
    await expect(shown).to_contain_text("<b>i dag</b>", timeout=WAIT)
    await expect(shown.locator(".option")).to_have_text("Påminn om en timme")
