"""Reference fingerprints in a real SQLite file."""

from __future__ import annotations

from bot.store import Store
from bot.store.references import CORPUS_SUITE_VERSION, Reference, ReferenceAnswer


async def test_references_are_replaced_per_model_source_and_suite(store: Store):
    first = Reference(
        "acme/a", "acme", "probe", "v1", {"p1": ReferenceAnswer("one", 5), "p2": ReferenceAnswer(None, 8)}, None
    )
    await store.references.save([first])
    before = await store.references.fingerprint("v1")
    await store.references.save([Reference("acme/a", "acme", "probe", "v1", {"p1": ReferenceAnswer("two", 6)})])
    loaded = await store.references.load("v1")
    assert [(r.model_id, dict(r.answers)) for r in loaded] == [("acme/a", {"p1": ReferenceAnswer("two", 6)})]
    assert await store.references.fingerprint("v1") != before


async def test_references_load_with_their_suite_and_every_corpus_import(store: Store):
    await store.references.save(
        [
            Reference(
                "acme/a", "acme", "probe", "v1", {"p1": ReferenceAnswer("a1", 1), "p2": ReferenceAnswer("a2", 2)}
            ),
            Reference("acme/b", "acme", "probe", "v0", {"p1": ReferenceAnswer("b1", 1)}),
            Reference(
                "Corp-7B",
                "corp",
                "corpus:x.jsonl",
                CORPUS_SUITE_VERSION,
                {"p1": ReferenceAnswer("c1"), "p9": ReferenceAnswer("c9")},
            ),
        ]
    )
    loaded = await store.references.load("v1", probe_ids={"p1"})
    assert {r.model_id: set(r.answers) for r in loaded} == {"acme/a": {"p1"}, "Corp-7B": {"p1"}}
    assert await store.references.load("v1", probe_ids=set()) == []
    assert await store.references.model_ids("v1") == {"acme/a"}
    assert await store.references.counts() == {"probe": 2, "corpus:x.jsonl": 1}
