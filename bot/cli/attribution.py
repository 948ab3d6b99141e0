"""`scout probe`, `scout calibrate` and `scout references import`: attribution from a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.attribution.corpus import CorpusError
from bot.catalogue.lines import PlannedReference
from bot.catalogue.vendors import display_name
from bot.console import positive_int, print_json
from bot.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError
from bot.gateway import GatewayClient
from bot.jobs.key_health import KeyHealth
from bot.jobs.polling import poll_gateway
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.spend import SpendGuard
from bot.probes.cost import most_prompt_tokens
from bot.probes.suite import SUITE_VERSION, ProbePlan, plan_probes
from bot.settings import Settings
from bot.store import Store
from bot.store.references import CORPUS_SUITE_VERSION

if TYPE_CHECKING:
    from bot.jobs.pipeline import ProbeOutcome
    from bot.jobs.references import CalibrationStep

# The attribution stack (signals, combiner, style engine) is imported inside the handlers that use
# it: every `scout` command builds this module's parser, and `scout scan` should not pay for it.


def _has_api_key(settings: Settings) -> bool:
    if settings.openrouter_api_key is None or not settings.openrouter_api_key.get_secret_value():
        print("OPENROUTER_API_KEY is not set: probing sends chat requests, which need an API key", file=sys.stderr)
        return False
    return True


def _query_probe_ids(settings: Settings) -> set[str]:
    return {probe.probe_id for probe in plan_probes(settings.probe_max_requests, settings.probe_max_tokens).probes}


# --- scout probe -----------------------------------------------------------------------------------


def _outcome_json(outcome: ProbeOutcome) -> dict[str, Any]:
    report, guess = outcome.report, outcome.guess
    return {
        "model_id": report.model_id,
        "run_id": report.run_id,
        "suite_version": report.suite_version,
        "requests": report.requests,
        "failures": [{"probe_id": f.probe_id, "kind": f.error_kind, "error": f.error} for f in report.failures],
        "status": guess.status,
        "reason": guess.reason,
        "ranking": [item.to_json() for item in guess.ranking],
        "confidence": round(guess.confidence, 4),
        "not_sure": guess.not_sure.to_json() if guess.not_sure else None,
        "evidence": list(guess.evidence),
    }


def _format_outcome(outcome: ProbeOutcome) -> str:
    report, guess = outcome.report, outcome.guess
    lines = [
        f"{report.model_id}: run {report.run_id}, suite {report.suite_version}, {report.requests} requests, "
        f"{len(report.failures)} of {len(report.responses)} probes failed, {report.wall_s:.1f}s"
    ]
    if guess.not_sure is not None:
        lines.append(f"not sure: {guess.not_sure.reason} (a lab is named from {guess.not_sure.threshold:.0%})")
    elif guess.ranking:
        lines.append(f"most likely {guess.ranking[0].name}, confidence {guess.confidence:.0%}")
    if guess.ranking:
        for position, item in enumerate(guess.ranking, start=1):
            nearest = ", ".join(f"{n.model_id} ({n.similarity:.2f})" for n in item.nearest)
            lines.append(
                f"  {position}. {item.name:28} {item.probability:6.1%}" + (f"  nearest: {nearest}" if nearest else "")
            )
    else:
        lines.append(guess.reason or "no guess")
    lines.append("evidence:")
    lines.extend(f"  - {line}" for line in guess.evidence)
    for failure in report.failures:
        lines.append(f"  ! {failure.probe_id}: {failure.error_kind}: {failure.error}")
    return "\n".join(lines)


async def cmd_probe(settings: Settings, args: argparse.Namespace) -> int:
    """Probe one model now and print the ranking; a result the bot would retry later fails the command. A model the
    store does not know is looked up in the catalogue first: its prices bound what the run may cost."""
    if not _has_api_key(settings):
        return EXIT_USAGE
    from bot.jobs.pipeline import RETRIED_STATUSES, RetryPolicy, probe_and_attribute

    async with await Store.from_settings(settings) as store, GatewayClient.from_settings(settings) as gateway:
        if await store.catalogue.model(args.model_id) is None:  # its prices bound what the run may cost
            await poll_gateway(store, gateway)
            if await store.catalogue.model(args.model_id) is None:
                raise CommandError(
                    f"{args.model_id} is not in the gateway's catalogue: its cost cannot be bounded; nothing was sent"
                )
        runner = ProbeRunner.from_settings(store, gateway, settings)
        retry = RetryPolicy.from_settings(settings)
        outcome = await probe_and_attribute(store, runner, args.model_id, purpose="manual", retry=retry)
    if outcome.guess.status in RETRIED_STATUSES:
        raise CommandError(f"{args.model_id}: {outcome.guess.reason}")
    if args.json:
        print_json(_outcome_json(outcome))
    else:
        print(_format_outcome(outcome))
    return EXIT_OK


# --- scout calibrate -------------------------------------------------------------------------------


async def _refit_and_describe(store: Store, settings: Settings) -> None:
    from bot.jobs.references import catalogue_listings, load_fingerprints, refit_combiner

    listings = await catalogue_listings(store)
    references = await load_fingerprints(store, listings)
    model = await refit_combiner(store, references, listings, _query_probe_ids(settings))
    counts = await store.references.counts()
    print(
        f"references: {len(references)} comparable with suite {SUITE_VERSION} "
        f"({', '.join(f'{n} from {source}' for source, n in sorted(counts.items())) or 'none stored'})"
    )
    print(model.describe())


def _format_plan(plan: list[PlannedReference], run: ProbePlan) -> str:
    """The calibration plan as a table: model, lab, line and what its run costs at most, then the total."""
    prompt_tokens = sum(most_prompt_tokens(probe) for probe in run.probes)
    lines = [
        f"calibration plan: {len(plan)} models, each run at most {run.max_requests} requests, "
        f"{prompt_tokens:,} prompt and {run.reserved_tokens:,} completion tokens (nothing is sent)",
        f"{'model':48} {'lab':20} {'line':12} {'at most':>9}",
    ]
    lines += [
        f"{item.model_id[:48]:48} {display_name(item.vendor)[:20]:20} {item.line:12} {f'${item.cost:.4f}':>9}"
        for item in plan
    ]
    lines.append(f"{'total':82} {f'${sum(item.cost for item in plan):.2f}':>9}")
    return "\n".join(lines)


async def _print_plan(settings: Settings, lines_per_lab: int, as_json: bool) -> int:
    from bot.jobs.references import calibration_plan

    run = plan_probes(settings.probe_max_requests, settings.probe_max_tokens)
    async with await Store.from_settings(settings) as store:
        plan = calibration_plan(await store.catalogue.models(), lines_per_lab, run)
    if not plan:
        raise CommandError("the store knows no catalogue models of the major labs: run `scout scan` first")
    if as_json:
        print_json(
            {
                "run": {
                    "requests": run.max_requests,
                    "prompt_tokens": sum(most_prompt_tokens(probe) for probe in run.probes),
                    "completion_tokens": run.reserved_tokens,
                },
                "models": [vars(item) for item in plan],
                "total_usd": round(sum(item.cost for item in plan), 4),
            }
        )
    else:
        print(_format_plan(plan, run))
    return EXIT_OK


async def cmd_calibrate(settings: Settings, args: argparse.Namespace) -> int:
    """Probe models of known makers into references and refit the combiner; fails only if every probe failed."""
    if args.status:
        from bot.jobs.self_calibration import reference_status

        async with await Store.from_settings(settings) as store:
            print((await reference_status(store)).describe())
        return EXIT_OK
    lines_per_lab = args.per_vendor or settings.calibration_models_per_vendor
    if args.plan:
        return await _print_plan(settings, lines_per_lab, args.json)
    if not _has_api_key(settings):
        return EXIT_USAGE
    from bot.jobs.references import calibrate, choose_calibration_models

    plan = plan_probes(settings.probe_max_requests, settings.probe_max_tokens)
    async with await Store.from_settings(settings) as store:
        if args.models:
            model_ids = [part.strip() for part in args.models.split(",") if part.strip()]
        elif settings.calibration_model_ids:
            model_ids = settings.calibration_model_ids
        else:
            model_ids = choose_calibration_models(await store.catalogue.models(), lines_per_lab, plan)
            if not model_ids:
                raise CommandError("the store knows no catalogue models of the major labs: run `scout scan` first")
        print(
            f"calibrating {len(model_ids)} models with suite {SUITE_VERSION} "
            f"({len(plan.probes)} probes, at most {plan.max_requests} requests each)",
            flush=True,
        )
        done = 0

        def progress(step: CalibrationStep) -> None:
            nonlocal done
            done += 1
            print(f"[{done}/{len(model_ids)}] {step.describe()}", flush=True)

        spend, key_health = SpendGuard(store, settings), KeyHealth(store, settings.probe_retry_base_seconds)
        async with GatewayClient.from_settings(settings) as gateway:
            steps = await calibrate(
                store,
                lambda: ProbeRunner.from_settings(store, gateway, settings, spend=spend, key=key_health),
                model_ids,
                refresh=args.refresh,
                on_step=progress,
            )
        await _refit_and_describe(store, settings)
    attempted = [step for step in steps if step.status != "skipped"]
    return EXIT_FAILURE if attempted and all(step.status == "failed" for step in attempted) else EXIT_OK


# --- scout references import -----------------------------------------------------------------------


async def cmd_references_import(settings: Settings, args: argparse.Namespace) -> int:
    """Load answers of known models from a corpus file as references, saying on stderr what was left out."""
    from bot.jobs.references import import_corpus

    path = Path(args.file)
    async with await Store.from_settings(settings) as store:
        try:
            summary = await import_corpus(store, path)
        except CorpusError as error:
            raise CommandError(str(error)) from None
        print(
            f"imported {summary.models} models of {summary.vendors} vendors ({summary.answers} answers, "
            f"{summary.counted} with the gateway's token counts) from {path.name} as {summary.source} "
            f"(suite-independent: {CORPUS_SUITE_VERSION})"
        )
        if summary.lines_skipped or summary.models_skipped:
            print(
                f"skipped {summary.lines_skipped} bad line(s) and {len(summary.models_skipped)} model(s) "
                "with conflicting vendors",
                file=sys.stderr,
            )
        if summary.texts_cut:
            print(
                f"cut {summary.texts_cut} over-long answer(s) or prompt(s) to fit the store (marked)", file=sys.stderr
            )
        await _refit_and_describe(store, settings)
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout probe`, `scout calibrate` and `scout references import`."""
    probe = commands.add_parser("probe", help="probe one model with the suite and rank its likely vendor")
    probe.add_argument("model_id", metavar="MODEL_ID", help="the catalogue id, e.g. openrouter/owl-alpha")
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    probe.set_defaults(handler=cmd_probe)

    calibrate_ = commands.add_parser("calibrate", help="probe known models and store their fingerprints as references")
    calibrate_.add_argument(
        "--models",
        metavar="ID,...",
        help="comma-separated model ids (default: CALIBRATION_MODELS, "
        "else the newest model of each product line of each major lab in the store's catalogue)",
    )
    calibrate_.add_argument(
        "--per-vendor", type=positive_int, metavar="N", help="product lines per lab when choosing models (default 5)"
    )
    calibrate_.add_argument(
        "--plan",
        action="store_true",
        help="print the models it would probe (model, lab, line, most it costs in US dollars); sends nothing",
    )
    calibrate_.add_argument("--json", action="store_true", help="with --plan, print one JSON object")
    calibrate_.add_argument("--refresh", action="store_true", help="probe again models that already have a reference")
    calibrate_.add_argument(
        "--status", action="store_true", help="print the references per lab, their age and the bot's calibration N/M"
    )
    calibrate_.set_defaults(handler=cmd_calibrate)

    references = commands.add_parser("references", help="manage reference fingerprints")
    actions = references.add_subparsers(dest="references_command", required=True, metavar="ACTION")
    import_ = actions.add_parser(
        "import", help="load references from a JSONL(.gz) corpus of {model, vendor, prompt_id, prompt, response}"
    )
    import_.add_argument("file", metavar="FILE", help="the corpus file, JSON Lines, plain or gzipped (.gz)")
    import_.set_defaults(handler=cmd_references_import)
