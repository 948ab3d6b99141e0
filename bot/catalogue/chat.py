"""Which listings are chat models: the rule for choosing a reference, shared by `scout calibrate` and the bot's
own calibration.

A reference is compared with a stealth model's answers to chat prompts, so it must be a model that chats:
text in and text out, a model of its own (no router, no `:free` or `:thinking` variant of another listing),
and not a classifier, a guard or an embedding model that happens to answer in text. Llama Guard is listed
as text-to-text, but it replies "safe" or "unsafe"; as a Meta reference it would teach the combiner that
Meta writes one word.
"""

from __future__ import annotations

import re

from bot.catalogue.entry import CatalogueEntry

NOT_CHAT_NAME = re.compile(r"\b(?:guard|safeguard|shield|moderation|embed(?:ding)?s?|rerank(?:er)?|classifier)\b", re.I)
# What a description says of a model built for something else. "Content classification" alone is not here:
# general chat models list it among their tasks.
NOT_CHAT_PURPOSE = re.compile(
    r"\bsafety (?:classif|reasoning model)|\bcontent safety\b|\bsafeguard model\b|\bembedding model\b|\brerank", re.I
)


def is_chat_model(entry: CatalogueEntry) -> bool:
    """True for a listing whose answers to chat prompts say something about its maker's style."""
    return (
        entry.output_modalities == ("text",)
        and "text" in entry.input_modalities
        and (entry.tokenizer or "").lower() != "router"
        and entry.variant is None
        and not NOT_CHAT_NAME.search(f"{entry.slug} {entry.name}")
        and not NOT_CHAT_PURPOSE.search(entry.description)
    )
