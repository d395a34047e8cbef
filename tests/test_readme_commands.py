"""Every command of the READMEs' shell blocks runs as documented, shrunk by tiny overrides.

:data:`COMMANDS` holds each documented command (continuation lines joined) and how it is run here; a
command added to a README without an entry, or an entry whose command left the README, fails
:func:`test_every_documented_command_has_an_entry`.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

from tests.conftest import REPO

READMES = ("README.md", "projects/PAENet/README.md")
# The first word of a command line in a shell block (other lines are layouts, listings or output).
_COMMAND_START = ("python ", "python3 ", "make ", ".venv/bin/")
_SHELL = ("", "bash", "sh", "shell", "console")
# Training shrunk to seconds (as tests/engine/test_train_net.py), without the ImageNet weights file.
TINY = ("MODEL.BACKBONE.DEPTH 18x MODEL.BACKBONE.FEAT_DIM 512 MODEL.BACKBONE.PRETRAIN False "
        "INPUT.SIZE_TRAIN [64,32] INPUT.SIZE_TEST [64,32] SOLVER.IMS_PER_BATCH 16 DATALOADER.NUM_INSTANCE 4 "
        "SOLVER.MAX_EPOCH 1 SOLVER.WARMUP_ITERS 0 TEST.EVAL_PERIOD 1 TEST.IMS_PER_BATCH 32 "
        "DATALOADER.NUM_WORKERS 0 TEST.SETTINGS \"['all-1shot-seeded']\" MODEL.DEVICE cpu")
SYSU = "--config-file projects/PAENet/configs/sysu.yml DATASETS.ROOT {root} OUTPUT_DIR {work}/sysu " + TINY


@dataclass
class Run:
    """How a documented command runs here: ``subs`` replaces README placeholders (``{root}``: a tiny
    SynthVI set, ``{work}``: this module's scratch folder), ``extra`` is appended; ``server`` commands run
    until they serve, then stop. ``skip`` says why a command is not run."""
    subs: dict = field(default_factory=dict)
    extra: str = ""
    server: bool = False
    skip: str = ""
    check: object = None


def _check_demo(log, work):
    """The demo's log: no TypedStorage warning from the loader workers, one result table per test-time
    attribute source (each with a row per setting), and each source's per-trial CSV named once."""
    assert "TypedStorage" not in log
    assert log.count("Evaluation results of SYSUMM01") == 2
    for source in ("pred", "gt"):
        path = work / "demo" / f"SYSUMM01_{source}_trials.csv"
        assert path.is_file() and log.count(str(path)) == 1, path


COMMANDS = {
    "make demo": Run(subs={"make demo": "make -o .venv/.installed demo DEMO_DATA={root} DEMO_OUT={work}/demo"},
                     check=_check_demo),
    "make test": Run(skip="this test is part of make test"),
    "python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml DATASETS.ROOT /data "
    "MODEL.BACKBONE.PRETRAIN_PATH /weights/resnet50-0676ba61.pth OUTPUT_DIR logs/sysu/paenet": Run(
        subs={"/data": "{root}", "/weights/resnet50-0676ba61.pth": "''", "logs/sysu/paenet": "{work}/sysu"},
        extra=TINY),
    "python tools/check_dataset.py --config-file projects/PAENet/configs/sysu.yml DATASETS.ROOT datasets "
    "DATASETS.SYSU.ATTRIBUTES attributes": Run(subs={"DATASETS.ROOT datasets": "DATASETS.ROOT {root}"}),
    "python tools/convert_attributes.py --mat-dir datasets/SYSU-MM01/attributes "
    "--out datasets/SYSU-MM01/attributes.csv": Run(
        subs={"datasets/SYSU-MM01/attributes.csv": "{work}/attributes.csv",
              "datasets/SYSU-MM01/attributes": "{root}/SYSU-MM01/attributes"}),
    "python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml DATASETS.ROOT datasets "
    "DATASETS.SYSU.ATTRIBUTES attributes MODEL.BACKBONE.PRETRAIN_PATH /weights/resnet50-0676ba61.pth "
    "OUTPUT_DIR logs/sysu/paenet": Run(
        subs={"DATASETS.ROOT datasets": "DATASETS.ROOT {root}", "/weights/resnet50-0676ba61.pth": "''",
              "logs/sysu/paenet": "{work}/sysu-attributes"},
        extra=TINY),
    "python tools/train_net.py --num-gpus 4 --config-file projects/PAENet/configs/sysu.yml …": Run(
        subs={"--num-gpus 4": "--num-gpus 2", "…": "DATASETS.ROOT {root} OUTPUT_DIR {work}/ddp " + TINY}),
    "python tools/train_net.py --num-gpus 4 --num-machines 2 --machine-rank 0 --dist-url tcp://10.0.0.1:23456 …":
        Run(skip="needs two machines (one machine's DDP runs in the --num-gpus command)"),
    "python tools/train_net.py --num-gpus 4 --num-machines 2 --machine-rank 1 --dist-url tcp://10.0.0.1:23456 …":
        Run(skip="needs two machines (one machine's DDP runs in the --num-gpus command)"),
    "python tools/train_net.py --config-file … OUTPUT_DIR logs/sysu/paenet --resume": Run(
        subs={"--config-file …": SYSU.replace(" OUTPUT_DIR {work}/sysu", ""), "logs/sysu/paenet": "{work}/sysu"}),
    "python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml --eval-only "
    "MODEL.WEIGHTS logs/sysu/paenet/model_final.pth TEST.ATTRIBUTES \"['pred','gt']\"": Run(
        subs={"logs/sysu/paenet": "{work}/sysu"}, extra="DATASETS.ROOT {root} OUTPUT_DIR {work}/eval " + TINY),
    "python tools/retrieve.py build --config-file output/demo/config.yaml --index output/index "
    "--dataset SYSUMM01 --split gallery MODEL.WEIGHTS output/demo/model_final.pth": Run(
        subs={"output/demo": "{work}/sysu", "output/index": "{work}/index"}, extra="DATASETS.ROOT {root}"),
    "python tools/retrieve.py query --config-file output/demo/config.yaml --index output/index "
    "--images query_dir --topk 10 --format json --plot ranks.png MODEL.WEIGHTS output/demo/model_final.pth": Run(
        subs={"output/demo": "{work}/sysu", "output/index": "{work}/index", "query_dir": "{root}/SYSU-MM01/cam3",
              "ranks.png": "{work}/ranks.png"}),
    "python tools/retrieve.py info --index output/index": Run(subs={"output/index": "{work}/index"}),
    "python tools/retrieve.py query ... --where \"backpack >= 0.5 and camid in (3, 6)\"": Run(
        subs={"query ...": "query --config-file {work}/sysu/config.yaml --index {work}/index --images "
                           "{root}/SYSU-MM01/cam3 MODEL.WEIGHTS {work}/sysu/model_final.pth"}),
    "python tools/retrieve.py describe --index output/index --where \"gender >= 0.5 and hair_length >= 0.5\" "
    "--topk 20 --format csv --plot described.png": Run(
        subs={"output/index": "{work}/index", "described.png": "{work}/described.png"}),
    "python tools/reproduce.py --table 3 --data /data --dry-run": Run(subs={"/data": "{root}"}),
    "python tools/reproduce.py --table 3 --data /data --gpus 2 --out output/reproduce "
    "MODEL.BACKBONE.PRETRAIN_PATH /weights/resnet50-0676ba61.pth": Run(
        skip="trains Table 3's four ResNet-50 runs; tests/projects/paenet/test_reproduce.py runs the tool end "
             "to end with tiny overrides"),
    "python tools/make_synthvi.py --preset sysu --out /tmp/synthvi-sysu": Run(
        skip="writes 45,783 images; tests/data/test_synthvi_presets.py checks the preset's plan and that "
             "parallel writing equals serial"),
    "python benchmarks/paper_scale.py --data /tmp/synthvi-sysu --iters 50 SOLVER.AMP.ENABLED True": Run(
        skip="a benchmark of the paper-size model on the preset tree, minutes per iteration on a CPU"),
    "python tools/serve.py --config-file output/demo/config.yaml --index output/index "
    "MODEL.WEIGHTS output/demo/model_final.pth": Run(
        subs={"output/demo": "{work}/sysu", "output/index": "{work}/index"}, extra="--port 0", server=True),
    "python3 -m venv .venv": Run(skip="installs the environment (make install), which the tests run in"),
    ".venv/bin/pip install -r requirements.txt -r requirements-dev.txt -c constraints.txt": Run(
        skip="installs the environment (make install), which the tests run in"),
    ".venv/bin/pip install --no-deps fastreid==1.4.0": Run(
        skip="installs the environment (make install), which the tests run in"),
    ".venv/bin/pip install --no-deps -e .": Run(skip="installs the environment (make install), which the tests run in"),
    "python tools/train_net.py --config-file projects/PAENet/configs/sysu.yml DATASETS.ROOT /path/to/datasets "
    "MODEL.BACKBONE.PRETRAIN_PATH /path/to/resnet50-0676ba61.pth": Run(
        subs={"/path/to/datasets": "{root}", "/path/to/resnet50-0676ba61.pth": "''"},
        extra="OUTPUT_DIR {work}/paenet-readme " + TINY.replace("MODEL.DEVICE cpu", "MODEL.DEVICE cpu SEED 1")),
}


def documented_commands():
    """The command lines of the READMEs' shell blocks (``python …``, ``make …``, ``.venv/bin/…``), in order,
    with continuation lines joined and trailing ``# comments`` dropped."""
    commands = []
    for readme in READMES:
        with open(os.path.join(REPO, readme)) as f:
            text = f.read().replace("\\\n", " ")
        language = None  # None outside a fenced block
        for line in text.splitlines():
            if line.startswith("```"):
                language = line[3:].strip() if language is None else None
                continue
            line = re.sub(r"\s+#.*$", "", line).strip()
            if language in _SHELL and line.startswith(_COMMAND_START):
                commands.append(" ".join(line.split()))
    return commands


def test_every_documented_command_has_an_entry():
    documented = documented_commands()
    untested = [command for command in documented if command not in COMMANDS]
    gone = [command for command in COMMANDS if command not in documented]
    assert not untested, f"README commands without an entry in COMMANDS (add how to run them): {untested}"
    assert not gone, f"COMMANDS entries no longer in a README (remove or update them): {gone}"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


def _argv(command, run, root, work):
    for old, new in run.subs.items():
        command = command.replace(old, new)
    command = f"{command} {run.extra}".format(root=root, work=work)
    argv = shlex.split(command)
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
        script = argv[1] if argv[1] != "-m" else None
        assert script is None or os.path.isfile(os.path.join(REPO, script)), (
            f"README command {command!r}: {script} does not exist")
    return argv


def _serve(argv):
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 300
        lines = []
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "http://" in line:
                return
        pytest.fail(f"{' '.join(argv)} did not start serving:\n{''.join(lines)[-3000:]}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_documented_command_runs(command, synthvi_root, work):
    run = COMMANDS[command]
    if run.skip:
        pytest.skip(run.skip)
    argv = _argv(command, run, synthvi_root, work)
    if run.server:
        return _serve(argv)
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    if run.check is not None:
        run.check(proc.stdout + proc.stderr, work)
