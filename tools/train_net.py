#!/usr/bin/env python
"""Train or evaluate any fastreid_ext / project model: FastReID's command line.

    python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml [--resume] \
        [--eval-only] [--num-gpus N] [--num-machines M --machine-rank R --dist-url URL] [KEY VALUE ...]
"""
import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid.engine import default_argument_parser, launch

from fastreid_ext.engine import CMTrainer, evaluate_checkpoint, setup


def main(args):
    cfg = setup(args)
    if args.eval_only:
        return evaluate_checkpoint(cfg)
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


if __name__ == "__main__":
    args = default_argument_parser().parse_args()
    launch(main, args.num_gpus, num_machines=args.num_machines, machine_rank=args.machine_rank,
           dist_url=args.dist_url, args=(args,))
