"""The announcement outbox: the intent to post is written before posting, the message id right after.

States: `intended` -> `posting` (written just before the HTTP call) -> `posted` (message id known), or
`failed` (the channel is gone or the bot may not post; retried after `/scout setup`). A row left in
`posting` by a crash may or may not have reached Discord: the announcer looks for it in the channel
before posting again, so no guild ever sees a model announced twice.

Every row that asks for a Discord message (an announcement, an alert, a removal reply, an edit of a card)
is written here. The module-level helpers take the open transaction of the change that caused them (a
poll, a vote, a reveal, a guess, a forgotten member), so the change and its message commit together: a
crash keeps both or neither, never a change whose card is left stale. Their callers wake the announcers
(`Transaction.signal_outbox`) in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.alerts import PlannedAlert
from bot.store.database import Database, Row, Shards, Transaction, utc_now


@dataclass(frozen=True)
class Announcement:
    """One guild's card for one model: where it goes, how far delivery got, and what it should show."""

    id: int
    guild_id: int
    model_id: str
    channel_id: int
    state: str
    message_id: int | None
    revision: int
    posted_revision: int
    removal_state: str
    removal_message_id: int | None
    attempts: int
    last_error: str | None
    reposts: int = 0

    @property
    def nonce(self) -> str:
        """The post's nonce: Discord drops a repeat of it, so a card posted again after a deletion needs its own."""
        return f"scout-a{self.id}" + (f"-{self.reposts}" if self.reposts else "")

    @property
    def needs_post(self) -> bool:
        """Not on Discord yet, or perhaps on it (a crash mid-post): the announcer looks before posting again."""
        return self.state in ("intended", "posting")

    @property
    def needs_edit(self) -> bool:
        """Posted, but something it shows has changed since (guesses, votes, a reveal, a removal)."""
        return self.state == "posted" and self.posted_revision < self.revision

    @property
    def needs_removal_reply(self) -> bool:
        """The model left the catalogue and the card has not had its reply with reveal candidates yet."""
        return self.state == "posted" and self.removal_state in ("intended", "posting")


def _announcement(row: Row) -> Announcement:
    return Announcement(
        row["id"],
        row["guild_id"],
        row["model_id"],
        row["channel_id"],
        row["state"],
        row["message_id"],
        row["revision"],
        row["posted_revision"],
        row["removal_state"],
        row["removal_message_id"],
        row["attempts"],
        row["last_error"],
        row["reposts"],
    )


class OutboxStore:
    """The announcement outbox: every state change is written before (or right after) the Discord call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def wait_for_work(self, timeout: float) -> None:
        """Sleep until some writer says there may be something to post or edit, or until `timeout`.

        Writers signal in the transaction that made the work: the same process at once, the other processes of
        a PostgreSQL deployment through NOTIFY; the timeout catches what no one signalled (the CLI on SQLite).
        """
        await self._db.wait_for_outbox(timeout)

    async def pending(self, limit: int = 100, *, shards: Shards | None = None) -> list[Announcement]:
        """Work left for the announcer, oldest first; resumes whatever a crash interrupted. With `shards`, only the
        guilds of this process's shards: each card is delivered by the one process that holds its guild."""
        where, params = shards.condition() if shards else ("1 = 1", ())
        rows = await self._db.fetchall(
            f"""
            SELECT * FROM announcements
            WHERE (state IN ('intended', 'posting')
               OR (state = 'posted' AND (posted_revision < revision OR removal_state IN ('intended', 'posting'))))
              AND {where}
            ORDER BY id LIMIT ?
            """,
            (*params, limit),
        )
        return [_announcement(row) for row in rows]

    async def get(self, announcement_id: int) -> Announcement | None:
        """The row behind a component's custom id (which carries the announcement id)."""
        row = await self._db.fetchone("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
        return _announcement(row) if row else None

    async def for_model(self, guild_id: int, model_id: str) -> Announcement | None:
        """A guild's card of a model, if one was ever intended (there is at most one)."""
        row = await self._db.fetchone(
            "SELECT * FROM announcements WHERE guild_id = ? AND model_id = ?", (guild_id, model_id)
        )
        return _announcement(row) if row else None

    async def intend(self, guild_id: int, model_id: str, channel_id: int) -> Announcement:
        """Ask for an announcement outside a poll (a re-probe, a late `/scout setup`); a no-op when one exists."""
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO announcements (guild_id, model_id, channel_id, state, created_at, updated_at) "
                "VALUES (?, ?, ?, 'intended', ?, ?) ON CONFLICT (guild_id, model_id) DO NOTHING",
                (guild_id, model_id, channel_id, now, now),
            )
            tx.signal_outbox()
        announcement = await self.for_model(guild_id, model_id)
        assert announcement is not None
        return announcement

    async def mark_posting(self, announcement_id: int) -> None:
        """Written just before the HTTP call, so a crash during it is found at the next start."""
        await self._db.execute(
            "UPDATE announcements SET state = 'posting', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ? AND state IN ('intended', 'posting')",
            (utc_now(), announcement_id),
        )

    async def mark_posted(self, announcement_id: int, message_id: int, revision: int) -> None:
        """Written right after Discord answered: the message to edit from now on, and the revision it shows."""
        await self._db.execute(
            "UPDATE announcements SET state = 'posted', message_id = ?, posted_revision = ?, last_error = NULL, "
            "updated_at = ? WHERE id = ?",
            (message_id, revision, utc_now(), announcement_id),
        )

    async def mark_rendered(self, announcement_id: int, revision: int) -> None:
        """An edit landed; never moves back, as a slower edit may finish after a newer one."""
        await self._db.execute(
            "UPDATE announcements SET posted_revision = CASE WHEN posted_revision > ? THEN posted_revision ELSE ? END, "
            "last_error = NULL, updated_at = ? WHERE id = ?",
            (revision, revision, utc_now(), announcement_id),
        )

    async def mark_failed(self, announcement_id: int, error: str) -> None:
        """Give up on a guild's announcement until its settings change; the error shows in /scout status."""
        await self._db.execute(
            "UPDATE announcements SET state = CASE WHEN state = 'posted' THEN 'posted' ELSE 'failed' END, "
            "posted_revision = CASE WHEN state = 'posted' THEN revision ELSE posted_revision END, "
            "removal_state = CASE WHEN removal_state IN ('intended', 'posting') AND state = 'posted' "
            "THEN 'failed' ELSE removal_state END, last_error = ?, updated_at = ? WHERE id = ?",
            (error[:300], utc_now(), announcement_id),
        )

    async def mark_deleted(self, announcement_id: int, *, repost: bool) -> bool:
        """The card's message is gone (a moderator deleted it). With `repost`, the first time, the row goes back to
        `intended` for a new message; otherwise it stops being edited. True when it will be posted again."""
        now = utc_now()
        async with self._db.transaction() as tx:
            reposted = (
                repost
                and await tx.execute(
                    "UPDATE announcements SET state = 'intended', message_id = NULL, posted_revision = 0, "
                    "reposts = reposts + 1, last_error = ?, updated_at = ? WHERE id = ? AND state = 'posted' "
                    "AND reposts = 0",
                    ("the card was deleted from the channel; posted again", now, announcement_id),
                )
                > 0
            )
            if reposted:
                tx.signal_outbox()
            else:
                await tx.execute(
                    "UPDATE announcements SET posted_revision = revision, last_error = ?, updated_at = ? WHERE id = ?",
                    ("the card was deleted from the channel; it is not posted again", now, announcement_id),
                )
        return reposted

    async def record_error(self, announcement_id: int, error: str) -> None:
        """A transient failure: keep the work pending, remember why."""
        await self._db.execute(
            "UPDATE announcements SET last_error = ?, updated_at = ? WHERE id = ?",
            (error[:300], utc_now(), announcement_id),
        )

    async def mark_removal_posting(self, announcement_id: int) -> None:
        """Like `mark_posting`, for the reply that says the model left the catalogue."""
        await self._db.execute(
            "UPDATE announcements SET removal_state = 'posting', updated_at = ? WHERE id = ? "
            "AND removal_state IN ('intended', 'posting')",
            (utc_now(), announcement_id),
        )

    async def mark_removal_posted(self, announcement_id: int, message_id: int) -> None:
        """Like `mark_posted`, for the removal reply."""
        await self._db.execute(
            "UPDATE announcements SET removal_state = 'posted', removal_message_id = ?, updated_at = ? WHERE id = ?",
            (message_id, utc_now(), announcement_id),
        )

    async def counts(self, guild_id: int | None = None) -> dict[str, int]:
        """Rows per state (all guilds, or one), for `/scout status`."""
        where, params = ("WHERE guild_id = ?", (guild_id,)) if guild_id is not None else ("", ())
        rows = await self._db.fetchall(f"SELECT state, COUNT(*) AS n FROM announcements {where} GROUP BY state", params)
        return {row["state"]: row["n"] for row in rows}


async def intend_announcements(tx: Transaction, model_id: str, *, stealth: bool, now: str) -> None:
    """Record the intent to announce in every guild that wants this model; UNIQUE(guild, model) keeps it single.

    A guild that turned announcements off (`/scout alerts pause`) gets none; one that turned stealth
    announcements off gets stealth models only when it asked for every model.
    """
    await tx.execute(
        """
        INSERT INTO announcements (guild_id, model_id, channel_id, state, created_at, updated_at)
        SELECT s.guild_id, ?, s.channel_id, 'intended', ?, ? FROM guild_settings s
        LEFT JOIN guild_alerts a ON a.guild_id = s.guild_id
        WHERE s.channel_id IS NOT NULL AND COALESCE(a.paused, 0) = 0
          AND ((? = 1 AND COALESCE(a.stealth, 1) = 1) OR s.all_models = 1)
        ON CONFLICT (guild_id, model_id) DO NOTHING
        """,
        (model_id, now, now, int(stealth)),
    )


async def intend_removal_replies(tx: Transaction, model_id: str, now: str) -> None:
    """The model left the catalogue: each card says so and gets a reply with the reveal candidates, except in
    guilds that paused announcements."""
    await tx.execute(
        "UPDATE announcements SET removal_state = 'intended', revision = revision + 1, updated_at = ? "
        "WHERE model_id = ? AND removal_state = 'none' "
        "AND guild_id NOT IN (SELECT guild_id FROM guild_alerts WHERE paused = 1)",
        (now, model_id),
    )


async def queue_alerts(tx: Transaction, poll_id: int, planned: Sequence[PlannedAlert], now: str) -> None:
    """Queue a poll's planned alerts; UNIQUE(guild, poll, kind) keeps a re-recorded poll from doubling them."""
    await tx.executemany(
        "INSERT INTO alerts (guild_id, poll_id, kind, channel_id, lines_json, state, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'intended', ?, ?) ON CONFLICT (guild_id, poll_id, kind) DO NOTHING",
        [
            (alert.guild_id, poll_id, alert.kind, alert.channel_id, json.dumps(list(alert.lines)), now, now)
            for alert in planned
        ],
    )


async def ask_for_edits(tx: Transaction, model_ids: Iterable[str], now: str, guild_id: int | None = None) -> None:
    """Something the models' cards show changed (a guess in every guild; votes, a reveal or a forgotten member in
    one): raise their revision, so the announcer edits them."""
    where = "model_id = ?" if guild_id is None else "model_id = ? AND guild_id = ?"
    extra = () if guild_id is None else (guild_id,)
    await tx.executemany(
        f"UPDATE announcements SET revision = revision + 1, updated_at = ? WHERE {where}",
        [(now, model_id, *extra) for model_id in model_ids],
    )
