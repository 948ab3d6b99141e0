"""Data of guilds that removed the bot is purged once GUILD_DATA_RETENTION_DAYS have passed: their members' names,
votes and notes are not kept forever for a server that no longer uses the bot. The days give a server that removed
the bot by mistake the time to add it back with everything intact.
"""

from __future__ import annotations

import logging

from bot.store import Store

log = logging.getLogger(__name__)

RETENTION_CHECK_SECONDS = 3600.0


async def purge_departed_guilds(store: Store, retention_days: float) -> list[int]:
    """Purge every guild the bot left more than `retention_days` ago; returns their ids."""
    purged = []
    for guild_id in await store.guilds.departed_before(retention_days):
        deleted = await store.guilds.purge(guild_id)
        log.info(
            "purged the data of guild %d, which removed the bot over %g days ago (%d rows)",
            guild_id,
            retention_days,
            sum(deleted.values()),
        )
        purged.append(guild_id)
    return purged
