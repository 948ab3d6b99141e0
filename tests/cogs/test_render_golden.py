"""Golden cards from real runs: the pipeline probes the scripted labs on the fake gateway, the store keeps what it
found, and the announcer's own render turns it into the embed and components a member sees.

Each golden file is the recorded result of one state's run; the test runs the state again, renders, and compares.
Times the run itself produced (a reveal, a removal, the next probe) are shown as `<t:…:R>`. After a deliberate
change, `UPDATE_GOLDEN=1` rewrites the files; read the diff before committing it.

The same runs check what every card promises: at most ten lines, nothing shortened mid-word, ranking rows only
for vendors with at least 5%, and the vote menu's entries for the bot's guesses (or candidates) exactly those rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.jobs.polling import record_catalogue
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.references import calibrate
from bot.probes.suite import SUITE_VERSION
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault, ScriptedModel
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID, catalogue, install_labs
from cogs._card import load_card
from cogs._render import card_embed, evidence_embed
from cogs.announcements import render_announcement

GOLDEN = Path(__file__).parent / "golden"
GUILD, CHANNEL = 1001, 2002
MAX_CARD_LINES = 10
SHARE_SHOWN = 5
RUN_STAMP = re.compile(r"<t:(\d+):R>")
ROW = re.compile(r"^\d\. \*\*(?P<name>.+)\*\* `[█░]+` (?P<share>\d+)%$")
KNOWN = [entry for entry in catalogue() if entry["id"] != STEALTH_ID]
SLOW_REFERENCES = ("openai/gpt-5-mini", "anthropic/claude-haiku-4.5", "qwen/qwen3-32b", "z-ai/glm-4.5")
QUICK_REFERENCES = tuple(model_id for model_id, _, _ in KNOWN_MODELS if model_id not in SLOW_REFERENCES)


@dataclass
class Run:
    """One real run: the store, the fake gateway serving the scripted labs, and a client and settings for both."""

    store: Store
    gateway: FakeGateway
    client: GatewayClient
    settings: Settings
    started: float

    def pipeline(self) -> Pipeline:
        return Pipeline(self.store, self.client, self.settings)

    async def calibrated(self) -> None:
        """Every scripted lab's models probed as references, as `scout calibrate` does."""
        await calibrate(
            self.store,
            lambda: ProbeRunner.from_settings(self.store, self.client, self.settings, RateLimiter(1000, 12)),
            [model_id for model_id, _, _ in KNOWN_MODELS],
        )

    async def stealth_probed(self) -> None:
        """A poll lists the stealth model; its probes run and the guess is stored."""
        pipeline = self.pipeline()
        try:
            await pipeline.poll_once()
            await pipeline.wait_idle()
        finally:
            await pipeline.close()

    async def removed(self) -> None:
        """The stealth model leaves the catalogue (confirmed over as many polls as the watcher needs)."""
        self.gateway.set_catalogue(KNOWN)
        pipeline = self.pipeline()
        try:
            for _ in range(3):
                await pipeline.poll_once()
                if (await self.store.catalogue.model(STEALTH_ID)).removed_at:
                    return
        finally:
            await pipeline.close()
        raise AssertionError("the removal was never confirmed")

    async def rendered(self) -> dict[str, Any]:
        announcement = await self.store.outbox.for_model(GUILD, STEALTH_ID)
        assert announcement is not None
        shown = await render_announcement(self.store, announcement)
        assert shown is not None
        return {"embed": shown.embed.to_dict(), "components": shown.view.to_components()}


@contextlib.asynccontextmanager
async def scripted_run(tmp_path: Path, **overrides: Any) -> AsyncIterator[Run]:
    """The scripted labs' catalogue recorded before the launch, a guild announcing stealth models."""
    settings = load_settings(
        database_path=tmp_path / "scout.db",
        probe_timeout_seconds=30.0,
        probe_requests_per_minute=1000,
        probe_concurrency=12,
        **overrides,
    )
    async with FakeGateway() as gateway, await Store.open(settings.database_path) as store:
        install_labs(gateway)
        async with GatewayClient(gateway.base_url, "sk-test", backoff_base_s=0.01, backoff_cap_s=0.05) as client:
            await record_catalogue(store, KNOWN, "before the launch")
            await store.guilds.configure(GUILD, CHANNEL, all_models=False)
            yield Run(store, gateway, client, settings, time.time())


async def until(check: Callable[[], Awaitable[object]], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def calibrating(run: Run) -> None:
    """A fresh install with a key: the stealth model is probed while the bot is half-way through its references."""
    for model_id in SLOW_REFERENCES:
        run.gateway.set_fault("chat", Fault.hang(600), model=model_id)
    for model_id in QUICK_REFERENCES:  # the others answer, but slower than the stealth model
        run.gateway.set_fault("chat", Fault.hang(1.5), model=model_id)
    pipeline = run.pipeline()
    calibrating_task = asyncio.create_task(pipeline.calibrate_forever())
    try:
        await pipeline.poll_once()
        await pipeline.wait_idle()
        guess = await run.store.guesses.latest(STEALTH_ID)
        assert guess is not None and guess.status == "no_references"

        async def fast_ones_probed() -> bool:
            return (await run.store.calibration.progress(SUITE_VERSION)).finished >= len(QUICK_REFERENCES)

        await until(fast_ones_probed, "the quick reference models")
    finally:
        calibrating_task.cancel()
        await pipeline.close()


async def with_guesses(run: Run) -> None:
    await run.calibrated()
    await run.stealth_probed()


async def probes_failed(run: Run) -> None:
    await run.calibrated()
    run.gateway.set_fault("chat", Fault.http(502), model=STEALTH_ID)
    await run.stealth_probed()


async def revealed(run: Run) -> None:
    await with_guesses(run)
    for member, vendor in ((11, "GLM"), (12, "zhipu"), (13, "OpenAI")):
        await run.store.votes.cast(GUILD, STEALTH_ID, member, f"member {member}", vendor)
    await run.store.reveals.reveal(GUILD, STEALTH_ID, "zhipu", "z-ai/glm-5", 99)


async def corrected(run: Run) -> None:
    """Revealed as the lab the model claimed to be, then corrected to the one its tokens and style point to."""
    await with_guesses(run)
    for member, vendor in ((11, "GLM"), (12, "OpenAI")):
        await run.store.votes.cast(GUILD, STEALTH_ID, member, f"member {member}", vendor)
    await run.store.reveals.reveal(GUILD, STEALTH_ID, "openai", "openai/gpt-5", 99)
    await run.store.reveals.reveal(GUILD, STEALTH_ID, "zhipu", "z-ai/glm-5", 99)


def _three_words(messages: list[dict[str, Any]]) -> str:
    """Three bare words of the prompt, whatever it asks: no habit of any scripted lab, no name of a maker."""
    words = [word.lower() for word in str(messages[-1]["content"]).split() if word.isalpha()] or ["nothing"]
    return "; ".join(words[:3])


async def not_sure(run: Run) -> None:
    """A stealth model that writes like no lab, counts tokens like none and never says who made it."""
    await run.calibrated()
    run.gateway.add_model(ScriptedModel(STEALTH_ID, _three_words, tokenizer=lambda text: len(text.encode()) // 2 + 1))
    await run.stealth_probed()


async def removed(run: Run) -> None:
    await with_guesses(run)
    await run.removed()


STATES: dict[str, tuple[Callable[[Run], Awaitable[None]], dict[str, Any]]] = {
    "calibrating": (
        calibrating,
        {"openrouter_api_key": "sk-test", "calibration_models": ",".join(QUICK_REFERENCES + SLOW_REFERENCES)},
    ),
    "with_guesses": (with_guesses, {}),
    "not_sure": (not_sure, {}),
    "probes_failed": (probes_failed, {}),
    "revealed": (revealed, {}),
    "corrected": (corrected, {}),
    "removed": (removed, {}),
}


def recorded(rendered: dict[str, Any], run: Run) -> str:
    """The golden file's text: run-made times replaced by `<t:…:R>`, keys sorted."""

    def stamp(match: re.Match[str]) -> str:
        return "<t:…:R>" if int(match[1]) >= run.started - 60 else match[0]

    text = json.dumps(rendered, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return RUN_STAMP.sub(stamp, text)


def card_lines(embed: dict[str, Any]) -> list[str]:
    """What a member reads in the card's default view: title, description, each field's name and value, footer."""
    lines = [embed.get("title", "")]
    lines += (embed.get("description") or "").splitlines()
    for field in embed.get("fields", []):
        lines += [field["name"], *field["value"].splitlines()]
    footer = (embed.get("footer") or {}).get("text")
    return lines + ([footer] if footer else [])


def guess_entries(components: list[dict[str, Any]]) -> list[str]:
    items = [item for row in components for item in row["components"]]
    options = [option for item in items if item.get("type") == 3 for option in item["options"]]
    return [option["label"] for option in options if "the bot's" in (option.get("description") or "").lower()]


@pytest.mark.parametrize("state", list(STATES))
async def test_each_card_state_from_a_real_run_matches_its_golden_file_and_keeps_the_cards_promises(state, tmp_path):
    make, overrides = STATES[state]
    async with scripted_run(tmp_path, **overrides) as run:
        await make(run)
        rendered = await run.rendered()
    text = recorded(rendered, run)
    golden = GOLDEN / f"{state}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{state} differs from {golden}"

    lines = card_lines(rendered["embed"])
    assert len(lines) <= MAX_CARD_LINES, lines
    assert not [line for line in lines if "…" in line.replace("Probing…", "")], "a card line was shortened"
    rows = [match for line in lines if (match := ROW.match(line))]
    assert all(int(row["share"]) >= SHARE_SHOWN for row in rows)
    assert guess_entries(rendered["components"]) == [
        row["name"] for row in rows if row["name"] != "a lab without references"
    ]
    assert len(discord.Embed.from_dict(rendered["embed"])) <= 6000


async def test_a_real_guess_leads_with_what_supports_its_vendor_in_words_and_says_what_disagrees(tmp_path):
    async with scripted_run(tmp_path) as run:
        await with_guesses(run)
        card = await load_card(run.store, GUILD, STEALTH_ID)
    assert card is not None
    lead = card_lines(card_embed(card, announced=True).to_dict())[1]
    assert lead.startswith("Most likely **Zhipu (GLM)** (")
    assert "counts tokens exactly like glm-4." in lead and "writes most like glm-4." in lead
    assert "It calls itself ChatGPT, which many labs' models do." in lead
    assert "gpt" not in lead.split("It calls itself")[0]  # no other lab's model is named as support
    assert not re.search(r"\bsd\b|/\d+ |markdown|namespace", lead)


async def test_the_evidence_behind_a_real_card_has_every_finding_the_nearest_references_and_every_signal(tmp_path):
    async with scripted_run(tmp_path) as run:
        await with_guesses(run)
        card = await load_card(run.store, GUILD, STEALTH_ID)
        guess = await run.store.guesses.latest(STEALTH_ID)
    assert card is not None and guess is not None
    embed = evidence_embed(card).to_dict()
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["What points to Zhipu (GLM)"].splitlines() == [
        f"• {item.text}" for item in guess.findings if item.stance == "support"
    ]
    assert (
        "calls itself ChatGPT" in fields["What points elsewhere"]
        and "(points to OpenAI)" in fields["What points elsewhere"]
    )
    assert "`z-ai/glm-4.6`" in fields["Nearest reference models"]
    every = "\n".join(value for name, value in fields.items() if name.startswith("Every signal"))
    assert every.count("• ") == len(guess.evidence)
    assert fields["Listing"].splitlines()[1].startswith("Looks anonymous: ")
    for line in every.splitlines():
        if line.endswith("…"):  # shortened at a space: the last word is one of the line's own whole words
            words = {word for item in guess.evidence for word in item.split()}
            assert line[:-1].split()[-1] in words
