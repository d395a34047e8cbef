"""The command line shared by every tool: flags in any position around the ``KEY VALUE`` overrides."""
import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Optional

from ..utils import UserError

OVERRIDES_HELP = """config overrides:
  KEY VALUE ...         pairs of config keys and values, e.g. MODEL.WEIGHTS model_final.pth SOLVER.MAX_EPOCH 5;
                        they may come before, between or after the flags, and are applied after --config-file
                        in the order given (the keys are listed in fastreid_ext/config/defaults.py and the
                        projects' config.py)"""


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse`` parser whose positional leftovers are the ``KEY VALUE`` overrides (``args.opts``).

    Flags are recognised wherever they stand, so ``... OUTPUT_DIR out --resume`` works like
    ``--resume ... OUTPUT_DIR out``. Every parser also takes ``--debug`` (tracebacks for the errors that
    are otherwise printed as a message).
    """

    _debug_default = False

    def __init__(self, description: Optional[str] = None, overrides: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        # A misspelt flag is an error, not a prefix of another one.
        kwargs.setdefault("allow_abbrev", False)
        if overrides:
            kwargs.setdefault("epilog", OVERRIDES_HELP)
        super().__init__(description=description, **kwargs)
        self.overrides = overrides
        self.add_argument("--debug", action="store_true", default=self._debug_default,
                          help="show the traceback of any error")

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        kwargs.setdefault("parser_class", _SubcommandParser)
        return super().add_subparsers(**kwargs)

    def parse_args(self, args: Optional[Sequence[str]] = None,
                   namespace: Optional[argparse.Namespace] = None) -> argparse.Namespace:
        args, rest = self.parse_known_args(args, namespace)
        flags = [token for token in rest if _is_flag(token)]
        if flags:
            self.error(f"unrecognized arguments: {' '.join(flags)}")
        if not self.overrides:
            if rest:
                self.error(f"unrecognized arguments: {' '.join(rest)}")
            return args
        if len(rest) % 2:
            self.error(f"config overrides come in KEY VALUE pairs, got {len(rest)} words: {' '.join(rest)}")
        args.opts = rest
        return args


class _SubcommandParser(ArgumentParser):
    # Unset unless given, so that a subcommand does not reset the ``--debug`` given before it.
    _debug_default = argparse.SUPPRESS


def _is_flag(token):
    """``--name`` or ``-x``, but not a negative number given as an override value."""
    if not token.startswith("-") or token == "-":
        return False
    try:
        float(token)
        return False
    except ValueError:
        return True


def add_launch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """FastReID's training flags (``fastreid.engine.default_argument_parser``), for ``tools/train_net.py``."""
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to config file")
    parser.add_argument("--resume", action="store_true",
                        help="whether to attempt to resume from the checkpoint directory")
    parser.add_argument("--eval-only", action="store_true", help="perform evaluation only")
    parser.add_argument("--num-gpus", type=int, default=1, help="number of gpus *per machine*")
    parser.add_argument("--num-machines", type=int, default=1, help="total number of machines")
    parser.add_argument("--machine-rank", type=int, default=0, help="the rank of this machine")
    # PyTorch still may leave orphan processes in multi-gpu training: a port derived from the user id
    # keeps users on one machine apart (FastReID's choice).
    port = 2 ** 15 + 2 ** 14 + hash(os.getuid() if sys.platform != "win32" else 1) % 2 ** 14
    parser.add_argument("--dist-url", default=f"tcp://127.0.0.1:{port}",
                        help="initialization URL for pytorch distributed backend")
    return parser


def run_tool(main: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> Any:
    """``main(args)``, printing the project's own errors (:class:`~fastreid_ext.utils.UserError`) as one
    message and exiting with code 2; ``--debug`` shows their traceback. Other exceptions are bugs and keep it."""
    try:
        return main(args)
    except UserError as error:
        if getattr(args, "debug", False):
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
