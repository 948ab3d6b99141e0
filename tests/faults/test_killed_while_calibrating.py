"""The bot SIGKILLed in the middle of calibrating itself: the next start finishes the plan, paying for nothing twice.

The real bot runs as a child process with an API key against the fake gateway playing four labs. One
lab's model hangs, so when the test kills the bot the plan in the store has models done and one still
pending. A second bot on the same database must probe only what was left, and finish with references
of every planned model.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.testing.gateway_server import Fault
from bot.testing.scripted_labs import KNOWN_MODELS, install_labs
from tests.support.bot_process import read_rows, running_bot
from tests.support.world import World

HUNG = "qwen/qwen3-8b"


def _targets(world: World) -> dict[str, str]:
    if not world.database.exists():
        return {}
    try:
        rows = read_rows(world.database, "SELECT model_id, state FROM calibration_targets")
    except sqlite3.Error:  # the schema is not there yet while the bot starts
        return {}
    return {row["model_id"]: row["state"] for row in rows}


async def test_sigkill_during_self_calibration_resumes_without_probing_finished_models_again(
    world: World, tmp_path: Path
):
    install_labs(world.gateway)
    world.gateway.set_fault("chat", Fault.hang(600), model=HUNG)
    environment = world.process_environment(log_level="INFO", probe_timeout_seconds=30)

    async with running_bot(environment, tmp_path / "run", name="first") as first:

        def all_but_the_hung_one_done() -> bool:
            targets = _targets(world)
            return (
                len(targets) == len(KNOWN_MODELS)
                and sum(state == "done" for state in targets.values()) == len(KNOWN_MODELS) - 1
            )

        await first.wait_for(all_but_the_hung_one_done, what="every model but the hung one calibrated")
        await first.wait_for(lambda: world.gateway.requests_to("chat", model=HUNG), what="the hung model probed")
        await first.kill()
        assert "calibration 7/8" in first.log()
    assert _targets(world)[HUNG] == "pending"
    paid = {model_id: len(world.gateway.requests_to("chat", model=model_id)) for model_id, _, _ in KNOWN_MODELS}

    world.gateway.clear_faults()
    async with running_bot(environment, tmp_path / "run", name="second") as second:
        await second.wait_for(
            lambda: set(_targets(world).values()) == {"done"}, what="the interrupted calibration finished"
        )
        await second.wait_for(lambda: "calibration 8/8" in second.log(), what="progress logged")
    for model_id, _, _ in KNOWN_MODELS:
        if model_id != HUNG:
            assert len(world.gateway.requests_to("chat", model=model_id)) == paid[model_id], model_id
    assert len(world.gateway.requests_to("chat", model=HUNG)) > paid[HUNG]
    references = read_rows(world.database, "SELECT model_id FROM reference_models WHERE source = 'probe'")
    assert sorted(row["model_id"] for row in references) == sorted(model_id for model_id, _, _ in KNOWN_MODELS)
