"""The shared command line (flags anywhere around the overrides), the config builder's messages, and the
tools' handling of user errors (one message, exit code 2)."""
import os
import subprocess
import sys

import pytest

from fastreid_ext.engine.args import ArgumentParser, add_launch_arguments
from fastreid_ext.engine.defaults import build_config
from fastreid_ext.utils import ConfigError
from tests.conftest import REPO

CONFIG = "projects/PAENet/configs/synthvi.yml"


def _launch_parser():
    return add_launch_arguments(ArgumentParser("train"))


@pytest.mark.parametrize("argv", [
    ["--config-file", "c.yml", "OUTPUT_DIR", "out", "SEED", "1", "--resume", "--eval-only"],
    ["--resume", "OUTPUT_DIR", "out", "--config-file", "c.yml", "SEED", "1", "--eval-only"],
    ["--config-file", "c.yml", "--resume", "--eval-only", "OUTPUT_DIR", "out", "SEED", "1"],
])
def test_flags_before_between_or_after_the_overrides(argv):
    args = _launch_parser().parse_args(argv)
    assert args.resume and args.eval_only and args.config_file == "c.yml"
    assert args.opts == ["OUTPUT_DIR", "out", "SEED", "1"]


def test_negative_values_are_overrides_and_unknown_flags_are_refused(capsys):
    args = _launch_parser().parse_args(["--config-file", "c.yml", "SEED", "-1", "SOLVER.BASE_LR", "-1e-3"])
    assert args.opts == ["SEED", "-1", "SOLVER.BASE_LR", "-1e-3"]
    with pytest.raises(SystemExit) as exit_:
        _launch_parser().parse_args(["--config-file", "c.yml", "SEED", "1", "--resum"])
    assert exit_.value.code == 2 and "unrecognized arguments: --resum" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _launch_parser().parse_args(["--config-file", "c.yml", "OUTPUT_DIR", "out", "SEED"])
    assert "KEY VALUE pairs, got 3 words: OUTPUT_DIR out SEED" in capsys.readouterr().err


def test_subcommands_take_overrides_anywhere_and_keep_debug():
    parser = ArgumentParser("tool")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build")
    build.add_argument("--index")
    args = parser.parse_args(["--debug", "build", "MODEL.WEIGHTS", "w.pth", "--index", "gallery", "SEED", "2"])
    assert args.debug and args.command == "build" and args.index == "gallery"
    assert args.opts == ["MODEL.WEIGHTS", "w.pth", "SEED", "2"]
    assert not parser.parse_args(["build"]).debug


def test_help_documents_the_overrides():
    text = _launch_parser().format_help()
    assert "KEY VALUE" in text and "before, between or after the flags" in text


def test_unknown_key_names_the_closest_one(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key MODEL.BACKBONE.DEPHT; did you mean "
                                          r"MODEL.BACKBONE.DEPTH\?"):
        build_config(os.path.join(REPO, CONFIG), ["MODEL.BACKBONE.DEPHT", "18x"])
    typo = tmp_path / "typo.yml"
    typo.write_text(f"_BASE_: {os.path.join(REPO, CONFIG)}\nSOLVER:\n  MAX_EPOHC: 3\n")
    with pytest.raises(ConfigError, match=rf"{typo}: unknown config key SOLVER.MAX_EPOHC; did you mean "
                                          r"SOLVER.MAX_EPOCH\?"):
        build_config(str(typo))
    with pytest.raises(ConfigError, match=r"unknown config key NOTHING.LIKE.IT$"):
        build_config("", ["NOTHING.LIKE.IT", "1"])
    with pytest.raises(ConfigError, match=r"--config-file .*missing.yml: no such file"):
        build_config(str(tmp_path / "missing.yml"))


def _tool(*args):
    return subprocess.run([sys.executable, os.path.join(REPO, "tools", "train_net.py"), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _error_line(proc):
    # (torch may print a warning of its own before it.)
    return proc.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_tool_prints_user_errors_as_one_line(tmp_path):
    proc = _tool("--config-file", CONFIG, "OUTPUT_DIR", str(tmp_path), "MODEL.BACKBONE.DEPHT", "18x", "--eval-only")
    assert proc.returncode == 2
    assert _error_line(proc) == ("error: KEY VALUE overrides: unknown config key MODEL.BACKBONE.DEPHT; "
                                   "did you mean MODEL.BACKBONE.DEPTH?")
    proc = _tool("--config-file", "configs/nope.yml", "--eval-only")
    assert proc.returncode == 2 and _error_line(proc) == "error: --config-file configs/nope.yml: no such file"
    proc = _tool("--config-file", "configs/nope.yml", "--eval-only", "--debug")
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ConfigError" in proc.stderr


@pytest.mark.slow
def test_stale_temporaries_are_removed_at_the_next_start(tmp_path):
    """A write killed mid-way (SIGKILL) leaves its temporary file; the next run in the directory removes it."""
    out = tmp_path / "run"
    writer = ("import os, signal\nfrom fastreid_ext.utils import atomic_write\n"
              "def write(f):\n    f.write(b'x' * 1000)\n    f.flush()\n    os.kill(os.getpid(), signal.SIGKILL)\n"
              f"atomic_write({str(out / 'model_0000001.pth')!r}, write)\n")
    killed = subprocess.run([sys.executable, "-c", writer], cwd=REPO, timeout=120)
    assert killed.returncode == -9
    [stale] = [name for name in os.listdir(out) if name.endswith(".tmp")]
    assert stale.startswith(".model_0000001.pth.")
    (out / "keep.tmp").write_text("not ours")
    proc = _tool("--config-file", CONFIG, "--eval-only", "OUTPUT_DIR", str(out), "MODEL.WEIGHTS",
                 str(out / "model_0000001.pth"), "MODEL.DEVICE", "cpu")
    assert f"Removed {out / stale}, left by a write that was interrupted" in proc.stdout
    assert sorted(os.listdir(out)) == ["config.yaml", "keep.tmp", "log.txt"]
    # The checkpoint was never written: one line naming it, exit code 2.
    assert proc.returncode == 2
    assert _error_line(proc) == f"error: checkpoint not found: {out / 'model_0000001.pth'} " \
                                  "(MODEL.WEIGHTS or last_checkpoint)"
