"""What the bot sent, read from the fake Discord: every message body, and checks that none pings anyone or carries
a character a stranger smuggled in."""

from __future__ import annotations

import json
import re

from bot.testing.discord import FakeDiscord

# Control and invisible characters a stranger may type; the bot's own "@\u200beveryone" defusing is allowed.
SMUGGLED = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200c-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def sent_by_the_bot(fake: FakeDiscord) -> list[dict]:
    """Every message body the bot sent: channel posts and edits, interaction answers, follow-ups."""
    bodies = []
    for message in fake.messages.values():
        if message.author_id == fake.bot.id or message.webhook_id is not None:
            bodies.append(
                {
                    "content": message.content,
                    "embeds": message.embeds,
                    "allowed_mentions": message.allowed_mentions,
                    "pings": (message.mention_everyone, message.mentioned_user_ids, message.mentioned_role_ids),
                }
            )
    for record in fake.interactions.values():
        if record.callback is not None and record.callback.type in (4, 7):
            bodies.append(
                {
                    "content": record.callback.content,
                    "embeds": record.callback.embeds,
                    "allowed_mentions": record.callback.data.get("allowed_mentions"),
                    "pings": (False, [], []),
                }
            )
    return bodies


def assert_pings_no_one(fake: FakeDiscord) -> None:
    """Every message with text went out with mentions disabled, and Discord computed no ping for any."""
    bodies = [body for body in sent_by_the_bot(fake) if body["content"] or body["embeds"]]
    assert bodies
    for body in bodies:
        assert body["allowed_mentions"] == {"parse": []}, body
        assert body["pings"] == (False, [], []), body


def assert_nothing_smuggled(fake: FakeDiscord) -> None:
    """No control, bidi or zero-width character a stranger typed reached a message."""
    for body in sent_by_the_bot(fake):
        text = json.dumps([body["content"], body["embeds"]], ensure_ascii=False)
        assert not SMUGGLED.search(text), SMUGGLED.findall(text)
