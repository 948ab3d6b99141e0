"""The store: the only place with SQL. `Store.open` hands one object to the bot, the CLI and the tests alike."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from bot.store.alerts import Alert, AlertStore
from bot.store.calibration import CalibrationStore
from bot.store.catalogue import CatalogueStore, ModelRecord, PollRecord
from bot.store.database import Database, DatabaseUnavailable, StoreError
from bot.store.guesses import GuessStore
from bot.store.guilds import GuildSettings, GuildStore
from bot.store.members import MemberStore
from bot.store.notes import NoteStore
from bot.store.outbox import Announcement, OutboxStore
from bot.store.probes import ProbeAttemptStore, ProbeStore
from bot.store.references import Reference, ReferenceStore
from bot.store.reveals import RevealStore
from bot.store.spend import SpendStore
from bot.store.state import StateStore
from bot.store.votes import VoteStore

__all__ = [
    "Alert",
    "AlertStore",
    "Announcement",
    "CalibrationStore",
    "CatalogueStore",
    "Database",
    "DatabaseUnavailable",
    "GuildSettings",
    "GuildStore",
    "MemberStore",
    "ModelRecord",
    "NoteStore",
    "OutboxStore",
    "PollRecord",
    "SpendStore",
    "StateStore",
    "Store",
    "StoreError",
    "VoteStore",
    "GuessStore",
    "ProbeAttemptStore",
    "ProbeStore",
    "Reference",
    "ReferenceStore",
    "RevealStore",
]


class Store:
    """One open database, with one attribute per concern."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.catalogue = CatalogueStore(db)
        self.guilds = GuildStore(db)
        self.alerts = AlertStore(db)
        self.outbox = OutboxStore(db)
        self.state = StateStore(db)
        self.spend = SpendStore(db)
        self.probes = ProbeStore(db)
        self.references = ReferenceStore(db)
        self.guesses = GuessStore(db)
        self.probe_attempts = ProbeAttemptStore(db)
        self.calibration = CalibrationStore(db)
        self.votes = VoteStore(db)
        self.notes = NoteStore(db)
        self.reveals = RevealStore(db)
        self.members = MemberStore(db)

    @classmethod
    async def open(cls, target: Path | str, *, create: bool = True, pool_size: int = 4) -> Store:
        """Open (and migrate) a SQLite file or a `postgresql://` database; `create=False` refuses a missing one
        instead of making an empty one."""
        return cls(await Database.open(target, create=create, pool_size=pool_size))

    @classmethod
    async def from_settings(cls, settings: Settings, *, create: bool = True) -> Store:
        """The database the settings name: DATABASE_URL (PostgreSQL) when set, else the file DATABASE_PATH."""
        return await cls.open(settings.database, create=create, pool_size=settings.database_pool_size)

    async def close(self) -> None:
        """Close the database; the store is unusable afterwards."""
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
