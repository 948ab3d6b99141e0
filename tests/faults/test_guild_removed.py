"""A server that removes the bot: its members' names, votes and notes are purged GUILD_DATA_RETENTION_DAYS later
(at once with 0), or at once with `scout purge-guild ID`; another server's data is never touched."""

from __future__ import annotations

from pathlib import Path

from tests.support.bot_process import bot_environment, read_rows, run_scout
from tests.support.world import OWL, World, eventually

GUILD_TABLES = ("votes", "vote_history", "notes", "reveals", "announcements", "guild_settings", "guild_alerts")


def _rows_of(world: World, guild_id: int) -> dict[str, int]:
    return {
        table: read_rows(world.database, f"SELECT COUNT(*) AS n FROM {table} WHERE guild_id = ?", guild_id)[0]["n"]
        for table in GUILD_TABLES
    }


async def _members_speak(world: World, bot) -> None:  # type: ignore[no-untyped-def]
    """Votes, notes, a reveal and alert settings in both servers."""
    await world.set_up_channel(bot, other_guild=True)
    for member, guild in ((world.member, world.guild), (world.other_admin, world.other_guild)):
        for command, options in (
            ("scout vote", {"vendor": "openai"}),
            ("scout note", {"text": "it writes like GPT"}),
        ):
            text, _, _ = await world.answer(
                await world.command(bot, command, member, guild=guild, model=OWL["id"], **options)
            )
            assert "recorded" in text or "saved" in text, text
    await world.answer(await world.command(bot, "scout alerts pause", world.admin))


async def test_the_data_of_a_server_that_removed_the_bot_is_purged_after_the_retention(world: World):
    async with world.run_bot(guild_data_retention_days=0) as bot:
        await world.announce_owl(bot)
        await _members_speak(world, bot)
        assert all(_rows_of(world, world.guild.id)[table] for table in ("votes", "vote_history", "notes"))
        kept = _rows_of(world, world.other_guild.id)

        await world.fake.remove_from_guild(world.guild.id)

        async def purged() -> bool:
            return not any(_rows_of(world, world.guild.id).values())

        await eventually(purged, what="the removed server's data purged")
    assert _rows_of(world, world.other_guild.id) == kept
    names = [row["member_name"] for row in read_rows(world.database, "SELECT member_name FROM vote_history")]
    assert world.member.name not in names


async def test_within_the_retention_the_data_is_kept_and_scout_purge_guild_removes_it(world: World, tmp_path: Path):
    async with world.run_bot() as bot:  # the default: 30 days
        await world.announce_owl(bot)
        await _members_speak(world, bot)
        await world.fake.remove_from_guild(world.guild.id)

        async def departure_recorded() -> bool:
            rows = read_rows(world.database, "SELECT guild_id FROM guild_departures")
            return [row["guild_id"] for row in rows] == [world.guild.id]

        await eventually(departure_recorded, what="the departure recorded")
        assert _rows_of(world, world.guild.id)["votes"] == 1
    kept = _rows_of(world, world.other_guild.id)

    run = await run_scout(
        "purge-guild", str(world.guild.id), environment=bot_environment(database_path=world.database), workdir=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "purged" in run.stdout + run.stderr
    assert not any(_rows_of(world, world.guild.id).values())
    assert _rows_of(world, world.other_guild.id) == kept
    assert read_rows(world.database, "SELECT COUNT(*) AS n FROM guild_departures")[0]["n"] == 0
