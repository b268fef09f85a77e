"""`dsf-search coefficients (PRESET | SPEC.yaml | STUDY --trial N) --out FILE.png`: the coefficient map of one model."""

from __future__ import annotations

import argparse

from dsf_search.cli.evaluate import DEFAULT_EVALUATOR
from dsf_search.cli.commands import summary
from dsf_search.cli.flags import MAX_MAP_LEN, SEED, output_file, whole
from dsf_search.defaults import DEFAULT_MAX_LEN
from dsf_search.errors import InputError
from dsf_search.search.storage import DEFAULT_ROOT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coefficients", help=summary("coefficients"),
        description="Draw alpha_ij (the weight of v_j in output i) of every layer and head on one test sequence of "
                    "a task of the protocol. The model: a zoo preset (sized by the protocol's model defaults) or a "
                    "ModelSpec YAML, optionally trained briefly first (--train-steps); or, with --trial N, trial N "
                    "of the study CANDIDATE with the trained weights the trial kept (no retraining; the task they "
                    "were trained on). Needs matplotlib: pip install 'dsf-search[results]'.",
    )
    p.add_argument("candidate", help="preset name (see `dsf-search zoo`), path of a ModelSpec YAML file, or a "
                                     "study name with --trial")
    p.add_argument("--trial", type=whole(0), metavar="N", help="trial N of the study CANDIDATE")
    p.add_argument("--out", required=True, type=output_file, metavar="FILE.png", help="the PNG to write")
    p.add_argument("--evaluator", help=f"protocol YAML (default {DEFAULT_EVALUATOR}, found from any directory; "
                                       "with --trial: the study's)")
    p.add_argument("--task", metavar="NAME", help="task label of the protocol (default: its first task)")
    p.add_argument("--train-steps", type=whole(0), default=0, metavar="N",
                   help="training steps before drawing (default 0: at initialization; not with --trial)")
    p.add_argument("--max-len", type=whole(1, MAX_MAP_LEN), default=DEFAULT_MAX_LEN, metavar="T",
                   help=f"tokens of the sequence (default {DEFAULT_MAX_LEN})")
    p.add_argument("--example", type=whole(0), default=0, metavar="I", help="index of the test sequence (default 0)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the task data, init and training (default 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    p.add_argument("--storage", help="with --trial: Optuna storage URL or journal path")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="with --trial: folder of the embedded studies")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dsf_search.evaluate import candidate_spec, load_protocol
    from dsf_search.evaluate.candidate import default_protocol_path
    from dsf_search.results import plots
    from dsf_search.results.coefficients import coefficient_maps
    from dsf_search.results.extras import pyplot

    pyplot()  # fail before any work when matplotlib is missing
    if args.trial is not None:
        return _trial(args)
    protocol = load_protocol(args.evaluator or default_protocol_path())
    spec = candidate_spec(args.candidate, protocol)
    maps = coefficient_maps(spec, protocol, task=args.task, train_steps=args.train_steps, seed=args.seed,
                            example=args.example, max_len=args.max_len, device=args.device)
    path = plots.coefficient_map(maps, args.candidate, args.out)
    loss = f", final training loss {maps.final_loss:.3f}" if maps.final_loss is not None else ""
    print(f"coefficient map of {args.candidate} ({len(maps.alpha)} layers) written to {path}{loss}")
    return 0


def _trial(args: argparse.Namespace) -> int:
    from dsf_search.results import plots
    from dsf_search.results.coefficients import coefficient_maps, trained_maps
    from dsf_search.results.report import study_protocol
    from dsf_search.results.study import load_study
    from dsf_search.results.weights import trial_model

    if args.train_steps:
        raise InputError("--train-steps: with --trial the map uses the trial's trained weights")
    study = load_study(args.candidate, args.storage, args.root)
    protocol, why = study_protocol(study, args.evaluator)
    if protocol is None:
        raise InputError(why)
    kept = trial_model(study, args.trial, args.root, task=args.task)
    label = f"{args.candidate} trial {kept.number}"
    if kept.state_dict is None:
        maps = coefficient_maps(kept.spec, protocol, task=args.task, seed=args.seed, example=args.example,
                                max_len=args.max_len, device=args.device)
        what = "at initialization: the trial kept no trained weights"
    else:
        maps = trained_maps(kept.model(), protocol, kept.task, seed=args.seed, example=args.example,
                            max_len=args.max_len, device=args.device)
        what = f"with its trained weights for task {kept.task} ({kept.path})"
    path = plots.coefficient_map(maps, label, args.out)
    print(f"coefficient map of {label} ({len(maps.alpha)} layers, {what}) written to {path}")
    return 0
