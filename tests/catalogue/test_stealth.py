"""The stealth verdict on real listings and on the shapes stealth launches have taken."""

import json

import pytest

from bot.catalogue.entry import load_catalogue_file, parse_entries, parse_entry
from bot.catalogue.stealth import CatalogueContext, classify


def listing(
    model_id, name, description="", prompt="0", completion="0", tokenizer="Other", hf=None, params=("temperature",)
):
    return {
        "id": model_id,
        "name": name,
        "description": description,
        "hugging_face_id": hf,
        "architecture": {"tokenizer": tokenizer, "input_modalities": ["text"], "output_modalities": ["text"]},
        "pricing": {"prompt": prompt, "completion": completion},
        "supported_parameters": list(params),
    }


def verdicts(raw_entries):
    entries, _ = parse_entries(raw_entries)
    context = CatalogueContext.of(entries)
    return {entry.id: classify(entry, context) for entry in entries}


CLOAKED = (
    "This is a cloaked model provided to the community to gather feedback. All prompts and completions are logged."
)
HISTORICAL_STEALTH = [
    listing("openrouter/quasar-alpha", "Quasar Alpha", CLOAKED),
    listing("openrouter/optimus-alpha", "Optimus Alpha", CLOAKED),
    listing("openrouter/horizon-beta", "Horizon Beta", CLOAKED),
    listing("openrouter/polaris-alpha", "Polaris Alpha", CLOAKED),
    listing("openrouter/sonoma-sky-alpha", "Sonoma Sky Alpha", CLOAKED),
    listing("openrouter/pony-alpha", "Pony Alpha", "Pony Alpha is a strong model for coding and agents..."),
    listing("openrouter/hunter-alpha", "Hunter Alpha", "Hunter Alpha is a frontier"),
    listing("cloaked/nebula-alpha", "Nebula Alpha", CLOAKED, prompt="0.000001", completion="0.000002"),
    listing("openrouter/cypher-alpha:free", "Cypher Alpha (free)", CLOAKED),
    listing("openrouter/sherlock-dash-alpha", "Sherlock Dash Alpha", "A frontier model...", prompt="0.000001"),
    listing("openrouter/bert-nebulon-alpha", "Bert-Nebulon Alpha", ""),
    listing("openrouter/sonic", "Sonic", "A speedy reasoning model for agentic coding", prompt="0.000001"),
    listing("stealthlab/raven", "Raven", "A stealth model under evaluation; prompts and completions are logged."),
]
NOT_STEALTH = [
    listing(
        "openrouter/auto",
        "Auto Router",
        "Your prompt will be processed by a meta-model",
        prompt="-1",
        completion="-1",
        tokenizer="Router",
    ),
    listing("openrouter/free", "Free Models Router", "a router that selects free models at random", tokenizer="Router"),
    listing(
        "openrouter/pareto-code", "Pareto Code Router", "The Pareto Router maintains", prompt="-1", completion="-1"
    ),
    listing(
        "openrouter/bodybuilder",
        "Body Builder (beta)",
        "Transform your requests",
        prompt="-1",
        completion="-1",
        params=(),
    ),
    listing("openrouter/switchboard", "Switchboard", "Routes each request to the best model", tokenizer="Other"),
    listing("z-ai/glm-4.6", "Z.ai: GLM 4.6", "GLM 4.6 by Zhipu", prompt="0.0000004", hf="zai-org/GLM-4.6"),
    listing("z-ai/glm-4.6:free", "Z.ai: GLM 4.6 (free)", "GLM 4.6 by Zhipu"),
    listing("xiaomi/mimo-v2-flash", "Xiaomi: MiMo-V2-Flash", "developed by Xiaomi", prompt="0"),
    listing("mistralai/devstral-alpha", "Devstral Alpha", CLOAKED),
    listing("newlab/newlab-1", "NewLab: NewLab 1", "NewLab 1 is NewLab's flagship model", prompt="0.000001"),
    listing("newlab/newlab-1-mini", "NewLab: NewLab 1 Mini", "A smaller NewLab model", prompt="0.0000005"),
]


def test_every_historical_stealth_shape_is_caught_with_reasons():
    found = verdicts(HISTORICAL_STEALTH + NOT_STEALTH)
    for raw in HISTORICAL_STEALTH:
        verdict = found[raw["id"]]
        assert verdict.stealth, (raw["id"], verdict)
        assert verdict.reasons and all(isinstance(reason, str) and reason for reason in verdict.reasons)


@pytest.mark.parametrize("raw", NOT_STEALTH, ids=[raw["id"] for raw in NOT_STEALTH])
def test_routers_variants_and_named_labs_are_not_stealth(raw):
    verdict = verdicts(HISTORICAL_STEALTH + NOT_STEALTH)[raw["id"]]
    assert not verdict.stealth, verdict


def test_router_and_variant_verdicts_say_why():
    found = verdicts(NOT_STEALTH)
    assert found["openrouter/free"].kind == "router" and "Router" in found["openrouter/free"].reasons[0]
    assert found["z-ai/glm-4.6:free"].kind == "variant" and "z-ai/glm-4.6" in found["z-ai/glm-4.6:free"].reasons[0]


def test_real_june_2026_catalogue_has_exactly_owl_alpha(catalogue_june):
    found = verdicts(load_catalogue_file(str(catalogue_june)))
    assert [model_id for model_id, verdict in found.items() if verdict.stealth] == ["openrouter/owl-alpha"]
    for router in ("openrouter/auto", "openrouter/free", "openrouter/pareto-code", "openrouter/bodybuilder"):
        assert found[router].kind == "router"


def test_real_december_2025_catalogue_has_no_stealth(catalogue_december):
    found = verdicts(load_catalogue_file(str(catalogue_december)))
    assert not [model_id for model_id, verdict in found.items() if verdict.stealth]


def test_free_variant_of_unlisted_base_is_judged_on_its_own():
    verdict = classify(parse_entry(listing("acme/x:free", "Acme: X (free)", "by Acme")), CatalogueContext.of([]))
    assert not verdict.stealth and verdict.kind != "variant"


def test_hostile_text_does_not_break_the_verdict():
    raw = listing("openrouter/evil-alpha", "Evil Alpha", "@everyone " + "\u200b" * 1000 + "x" * 100_000)
    verdict = verdicts([raw])["openrouter/evil-alpha"]
    assert verdict.stealth
    assert len(json.dumps(verdict.reasons)) < 2_000
