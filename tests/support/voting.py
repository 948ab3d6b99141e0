"""A store ready for votes: four anonymous models and two ordinary ones listed, in two guilds."""

from __future__ import annotations

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.store.votes import Tally
from tests.e2e.conftest import ORDINARY_MODELS, OWL

GUILD, OTHER_GUILD = 111, 222
MODEL = OWL["id"]
PONY, HUNTER, SILENT = "openrouter/pony-alpha", "openrouter/hunter-alpha", "openrouter/silent-alpha"
ORDINARY = ORDINARY_MODELS[0]["id"]


def _stealth(model_id: str) -> dict:
    return {**OWL, "id": model_id, "name": model_id.split("/")[1].replace("-", " ").title()}


async def with_models_to_vote_on(store: Store) -> Store:
    """`store` once Owl, Pony, Hunter and Silent are listed as anonymous models (votes are taken only on those)."""
    await record_catalogue(store, [*ORDINARY_MODELS, OWL, *(_stealth(m) for m in (PONY, HUNTER, SILENT))], "fixture")
    assert {m.id for m in await store.catalogue.models(stealth_only=True)} == {MODEL, PONY, HUNTER, SILENT}
    return store


def pairs(tally: Tally) -> list[tuple[str, int]]:
    """A tally as (vendor key, votes), most voted first."""
    return [(item.vendor, item.votes) for item in tally.by_vendor]
