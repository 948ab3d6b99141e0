import pytest

from bot.catalogue.vendors import canonical_vendor, display_name, known_vendor_names, vendor_for_model_id


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("z-ai", "zhipu"),
        ("thudm", "zhipu"),
        ("Zhipu/GLM", "zhipu"),
        ("Alibaba/Qwen", "alibaba"),
        ("qwen", "alibaba"),
        ("OpenAI", "openai"),
        ("meta-llama", "meta"),
        ("Meta", "meta"),
        ("~anthropic", "anthropic"),
        ("x-ai", "xai"),
        ("moonshotai", "moonshot"),
        ("01.AI/Yi", "01ai"),
        ("Shanghai AI Lab/InternLM", "shanghaiailab"),
    ],
)
def test_aliases_meet_in_one_key(label, key):
    assert canonical_vendor(label) == key


def test_unknown_label_becomes_stable_slug():
    assert canonical_vendor("  New Lab!  ") == "new-lab"
    assert canonical_vendor("") == "unknown"


def test_model_id_prefix():
    assert vendor_for_model_id("z-ai/glm-4.6").key == "zhipu"
    assert vendor_for_model_id("openrouter/owl-alpha") is None
    assert vendor_for_model_id("no-slash") is None
    assert display_name("zhipu") == "Zhipu (GLM)"


def test_vendor_names_in_text_need_word_boundaries():
    assert {v.key for v in known_vendor_names("Developed by Xiaomi, rivals Claude")} == {"anthropic", "xiaomi"}
    assert known_vendor_names("metadata and metaphors") == []
