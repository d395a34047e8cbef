#!/usr/bin/env python
"""Train or evaluate any fastreid_ext / project model: FastReID's command line.

    python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml [--resume] \
        [--eval-only] [--num-gpus N] [--num-machines M --machine-rank R --dist-url URL] [KEY VALUE ...]

Flags may come before or after the ``KEY VALUE`` overrides; ``python -m fastreid_ext.engine.launch`` is the same.
"""
import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.engine.launch import cli

if __name__ == "__main__":
    cli()
