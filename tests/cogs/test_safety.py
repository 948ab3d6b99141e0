"""The one helper every outgoing message goes through: cleaning, escaping, Discord's limits, no mentions."""

from __future__ import annotations

import discord
import pytest

from cogs import _safety as safety


def test_control_and_invisible_characters_are_stripped_but_lines_kept():
    text = "a\u200bb\u200dc\u202ed\x00e\x1bf\ng\th\u2028i"
    assert safety.clean(text) == "abcdef\ng\thi"


@pytest.mark.parametrize(
    ("hostile", "must_not_contain"),
    [
        ("@everyone look", "@everyone"),
        ("@here now", "@here"),
        ("@\u200beveryone sneaky", "@everyone"),  # a zero-width space the author hid is removed, ours is added back
        ("<@123456789> hi", " <@"),
        ("<@&987654321> role", " <@&"),
        ("[click me](https://evil.example)", "[click me]("),
        ("**bold** __under__ ~~strike~~ ||spoiler||", "**"),
        ("# Heading", "\n # "),
        ("> quote", "\n > "),
        ("```code```", "```"),
    ],
)
def test_escaping_defuses_mentions_links_and_markdown(hostile, must_not_contain):
    escaped = safety.escape(hostile)
    assert must_not_contain not in "\n " + escaped


def test_escaped_text_still_reads_as_typed():
    assert safety.escape("GPT-5 is 2x faster") == "GPT-5 is 2x faster"
    assert safety.escape("@everyone").replace("\u200b", "") == "@everyone"


def test_line_starts_that_discord_formats_are_escaped():
    assert safety.escape("# Big\n-# small\n> quote\n1. item") == "\\# Big\n\\-# small\n\\> quote\n\\1. item"


def test_cut_respects_the_limit_and_never_leaves_a_dangling_escape():
    assert safety.cut("abcdef", 6) == "abcdef"
    assert safety.cut("abcdefg", 6) == "abcde…"
    cut = safety.cut("ab\\*cd", 4)
    assert len(cut) <= 4 and not cut.rstrip("…").endswith("\\")
    assert safety.plain("*" * 5000, 1024).count("…") == 1 and len(safety.plain("*" * 5000, 1024)) <= 1024


def test_code_spans_cannot_be_broken_out_of():
    span = safety.code("evil`**x**`\nnext")
    assert span.startswith("`") and span.endswith("`") and span.count("`") == 2 and "\n" not in span


def test_custom_ids_over_100_characters_are_refused_when_built():
    assert safety.custom_id("scout:vote:1") == "scout:vote:1"
    with pytest.raises(ValueError):
        safety.custom_id("x" * 101)


def test_labels_are_cleaned_and_cut_to_100():
    assert len(safety.label("x" * 500)) == 100
    assert safety.label("\u200b\n") == "?"


def test_finish_embed_cuts_every_part_and_the_total_to_discords_limits():
    embed = discord.Embed(title="t" * 1000, description="d" * 10_000)
    embed.set_footer(text="f" * 5000)
    embed.set_author(name="a" * 1000)
    for number in range(30):
        embed.add_field(name=f"n{number}" * 200, value="v" * 3000)

    safety.finish_embed(embed)

    assert len(embed.title) <= 256 and len(embed.description or "") <= 4096
    assert len(embed.footer.text) <= 2048 and len(embed.author.name) <= 256
    assert len(embed.fields) <= 25
    assert all(len(field.name) <= 256 and len(field.value) <= 1024 for field in embed.fields)
    assert len(embed) <= 6000


def test_message_kwargs_always_disable_mentions_and_cut_content():
    kwargs = safety.message_kwargs("@everyone " + "x" * 3000, embed=discord.Embed(title="x" * 300))
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert len(kwargs["content"]) <= 2000
    assert len(kwargs["embed"].title) <= 256


def test_errors_become_one_sentence_without_internal_details():
    secret_failure = RuntimeError("token=abc.def.ghi failed at /root/secret")
    sentence = safety.error_sentence(secret_failure)
    assert "abc.def" not in sentence and sentence.endswith(".") and "\n" not in sentence
    assert "Manage Server" in safety.error_sentence(discord.app_commands.MissingPermissions(["manage_guild"]))
    assert safety.error_sentence(safety.CommandRefused("Pick a model.")) == "Pick a model."


def test_prose_is_shortened_at_a_space_never_in_half_a_word():
    assert safety.cut_words("counts tokens exactly like GLM 4.6", 24) == "counts tokens exactly…"
    assert safety.cut_words("short", 24) == "short"
    assert safety.cut_words("x" * 50, 10) == "x" * 9 + "…"  # one word longer than the limit: the only cut word
    escaped = safety.plain_words("see **this** — and that", 14)
    assert escaped.endswith("…") and escaped.count("\\*") % 2 == 0 and not escaped[:-1].endswith("\\")


def test_several_embeds_share_one_messages_six_thousand_characters():
    first = discord.Embed(title="card", description="d" * 3000)
    second = discord.Embed(title="evidence")
    for number in range(6):
        second.add_field(name=f"f{number}", value="v" * 1000)
    kwargs = safety.message_kwargs(embeds=[first, second])

    assert [embed.title for embed in kwargs["embeds"]] == ["card", "evidence"]
    assert sum(len(embed) for embed in kwargs["embeds"]) <= 6000 and len(first.description or "") == 3000
