"""Train or evaluate a model: ``python -m fastreid_ext.engine.launch``, the code of ``tools/train_net.py``."""
import argparse
import functools
from collections.abc import Sequence
from typing import Optional

from fastreid.engine import launch

from .args import ArgumentParser, add_launch_arguments, run_tool
from .defaults import setup
from .evaluate import evaluate_checkpoint
from .trainer import CMTrainer

USAGE = """Train or evaluate any fastreid_ext / project model: FastReID's command line.

    python tools/train_net.py --config-file CONFIG.yml [--resume] [--eval-only] \\
        [--num-gpus N] [--num-machines M --machine-rank R --dist-url URL] [KEY VALUE ...]
"""


def argument_parser() -> ArgumentParser:
    return add_launch_arguments(ArgumentParser(USAGE))


def main(args: argparse.Namespace) -> Optional[dict]:
    """Evaluate ``MODEL.WEIGHTS`` (``--eval-only``) or train (from the last checkpoint with ``--resume``)."""
    cfg = setup(args)
    if args.eval_only:
        return evaluate_checkpoint(cfg)
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def cli(argv: Optional[Sequence[str]] = None) -> None:
    """Parse ``argv`` and run :func:`main` in ``--num-gpus`` processes per machine (FastReID's ``launch``)."""
    args = argument_parser().parse_args(argv)
    launch(functools.partial(run_tool, main), args.num_gpus, num_machines=args.num_machines,
           machine_rank=args.machine_rank, dist_url=args.dist_url, args=(args,))


if __name__ == "__main__":
    cli()
