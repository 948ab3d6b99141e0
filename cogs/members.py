"""Members' data on request, as Red-DiscordBot does it: `/scout forget-me` erases a member's own votes and notes
in this server; `/scout forget-member` (Manage Server) does it for someone who has left and can no longer ask.

Both ask first, with buttons on an ephemeral message that only the asker sees; nothing is deleted until the
"Delete for good" button is pressed. Scores are computed from the stored votes, so they change at once.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.store.members import Forgotten
from cogs import _safety as safety
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

CONFIRM_SECONDS = 120
CONFIRM_ID, CANCEL_ID = "scout:forget:confirm", "scout:forget:cancel"


def forgotten_text(forgotten: Forgotten, whose: str) -> str:
    """What was erased, in words; an empty result is said plainly rather than as "0 votes"."""
    if not forgotten.votes and not forgotten.notes:
        return f"There was nothing of {whose} to delete in this server."
    votes = f"{forgotten.votes} vote{'s' if forgotten.votes != 1 else ''}"
    notes = f"{forgotten.notes} note{'s' if forgotten.notes != 1 else ''}"
    return f"Deleted {votes} and {notes} of {whose} in this server; scores and exports no longer include them."


class ForgetConfirmation(discord.ui.View):
    """The confirmation step: two buttons that only the member who asked can press, for two minutes."""

    def __init__(self, question: discord.Interaction[ScoutBot], member_id: int, whose: str) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.question = question
        self.requester_id = question.user.id
        self.member_id = member_id
        self.whose = whose

    async def on_timeout(self) -> None:
        """Unanswered buttons would fail when pressed later: take them away and say that nothing happened."""
        text = "Nothing was deleted: the question expired."
        with contextlib.suppress(discord.HTTPException):  # dismissed by the member: nothing left to tidy
            await self.question.edit_original_response(**safety.message_kwargs(text, view=None))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Another member's click (possible only through a forged request) deletes nothing."""
        return interaction.user.id == self.requester_id

    @discord.ui.button(label="Delete for good", style=discord.ButtonStyle.danger, custom_id=CONFIRM_ID)
    async def confirm(self, interaction: discord.Interaction[ScoutBot], _: discord.ui.Button[Any]) -> None:
        """Erase, then re-draw the cards whose tallies held the member's votes."""
        self.stop()
        try:
            await interaction.response.defer()
            store = interaction.client.store
            assert interaction.guild_id is not None
            forgotten = await store.members.forget(interaction.guild_id, self.member_id)
            text = forgotten_text(forgotten, self.whose)
            await interaction.edit_original_response(**safety.message_kwargs(text, view=None))
        except Exception as error:
            await safety.answer_error(interaction, error)

    @discord.ui.button(label="Keep", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[ScoutBot], _: discord.ui.Button[Any]) -> None:
        """Changing one's mind leaves everything as it was."""
        self.stop()
        await interaction.response.edit_message(**safety.message_kwargs("Nothing was deleted.", view=None))


async def _ask(interaction: discord.Interaction[ScoutBot], member_id: int, question: str, whose: str) -> None:
    """The question goes into the deferred original response: the message the view's time-out edits."""
    view = ForgetConfirmation(interaction, member_id, whose)
    await safety.acknowledge(interaction)
    await interaction.edit_original_response(**safety.message_kwargs(question, view=view))


async def forget_me_command(interaction: discord.Interaction[ScoutBot]) -> None:
    """Any member may erase what they gave this server; no permission is needed to take back one's own data."""
    await _ask(
        interaction,
        interaction.user.id,
        "This deletes every vote and note you made in this server, for good, and your place on the leaderboard "
        "with them. Other servers keep theirs.",
        "yours",
    )


async def member_with_data_autocomplete(
    interaction: discord.Interaction[ScoutBot], current: str
) -> list[app_commands.Choice[str]]:
    """Members who have votes or notes here, by name or id: someone who left is no longer in Discord's list.
    Only admins, who may use the command, are shown who has data."""
    try:
        safety.require_manage_guild(interaction)
    except app_commands.MissingPermissions:
        return []
    assert interaction.guild_id is not None
    found = await interaction.client.store.members.with_data(interaction.guild_id, current[:100])
    return [
        app_commands.Choice(name=safety.label(f"{name} ({member_id})", safety.CHOICE_NAME_LIMIT), value=str(member_id))
        for member_id, name in found
    ]


@app_commands.describe(member="The member whose votes and notes to delete (type a name or an id)")
@app_commands.autocomplete(member=member_with_data_autocomplete)
async def forget_member_command(
    interaction: discord.Interaction[ScoutBot], member: app_commands.Range[str, 1, 100]
) -> None:
    """For a member who left and cannot run /scout forget-me themselves; admins only, as in Red's data deletion.
    Acknowledged before the look-up of the member's name, which waits behind any write the database holds."""
    safety.require_manage_guild(interaction)
    assert interaction.guild_id is not None
    member_id = _member_id(member)
    await safety.acknowledge(interaction)
    known = await interaction.client.store.members.with_data(interaction.guild_id, str(member_id))
    name = next((name for found_id, name in known if found_id == member_id), str(member_id))
    await _ask(
        interaction,
        member_id,
        f"This deletes every vote and note of {safety.escape(name)} in this server, for good.",
        safety.escape(name) + "'s",
    )


def _member_id(text: str) -> int:
    """A member chosen from the suggestions arrives as an id; anything else is refused in one sentence."""
    cleaned = text.strip()
    if not cleaned.isdigit() or not 0 < int(cleaned) < 2**64:
        raise CommandRefused("Pick the member from the suggestions, or give their numeric Discord id.")
    return int(cleaned)


class Members(ScoutCog):
    """Registers `/scout forget-me` and `/scout forget-member`."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="forget-me",
                description="Delete your votes and notes in this server (asks first)",
                callback=forget_me_command,
            ),
            app_commands.Command(
                name="forget-member",
                description="Delete a member's votes and notes here, e.g. one who left (Manage Server)",
                callback=forget_member_command,
            ),
        )


async def setup(bot: ScoutBot) -> None:
    """The extension's entry point for `load_extension`."""
    await bot.add_cog(Members(bot))
