"""Stores set up for a test (anonymous models listed, ready for votes in two guilds), and what a test reads from a
store's file behind the bot's back."""

from __future__ import annotations

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.store.votes import Tally
from tests.support.world import ORDINARY_MODELS, OWL

GUILD, OTHER_GUILD = 111, 222
MODEL = OWL["id"]
PONY, HUNTER, SILENT = "openrouter/pony-alpha", "openrouter/hunter-alpha", "openrouter/silent-alpha"
ORDINARY = ORDINARY_MODELS[0]["id"]


def _stealth(model_id: str) -> dict:
    return {**OWL, "id": model_id, "name": model_id.split("/")[1].replace("-", " ").title()}


async def list_models_to_vote_on(store: Store) -> None:
    """List Owl, Pony, Hunter and Silent as anonymous models (votes are taken only on those) and two ordinary ones."""
    await record_catalogue(store, [*ORDINARY_MODELS, OWL, *(_stealth(m) for m in (PONY, HUNTER, SILENT))], "fixture")
    assert {m.id for m in await store.catalogue.models(stealth_only=True)} == {MODEL, PONY, HUNTER, SILENT}


def pairs(tally: Tally) -> list[tuple[str, int]]:
    """A tally as (vendor key, votes), most voted first."""
    return [(item.vendor, item.votes) for item in tally.by_vendor]


async def probe_runs(store: Store, model_id: str) -> list[tuple[int, str]]:
    """The model's probe runs as (id, state), newest first, read from the database: the bot never lists them."""
    rows = await store.db.fetchall("SELECT id, state FROM probe_runs WHERE model_id = ? ORDER BY id DESC", (model_id,))
    return [(row[0], row[1]) for row in rows]


async def list_owl(store: Store) -> str:
    """Record a catalogue that lists Owl Alpha as the stealth model it is (votes are taken only on those); its id."""
    await record_catalogue(store, [OWL], "fixture")
    return OWL["id"]
