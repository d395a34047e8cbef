"""Logging of several runs in one process: each line once, and only into the current run's log.txt."""
import logging

from fastreid_ext.engine.defaults import setup, setup_logging
from fastreid_ext.engine.launch import argument_parser
from tests.conftest import REPO


def _log_files(*dirs):
    return [(d / "log.txt").read_text() for d in dirs]


def test_a_second_setup_logging_replaces_the_first_runs_handlers(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    setup_logging(str(first))
    setup_logging(str(second))
    logging.getLogger("fastreid_ext.engine").info("second run's line")
    logging.getLogger("fastreid.engine").info("fastreid's line")
    assert capsys.readouterr().out.count("second run's line") == 1
    one, two = _log_files(first, second)
    assert "second run's line" not in one and "fastreid's line" not in one
    assert two.count("second run's line") == 1 and two.count("fastreid's line") == 1


def test_two_trainings_set_up_in_one_process_keep_their_logs_apart(tmp_path, capsys):
    """``setup`` (FastReID's default_setup, then ours) twice, as a notebook or a sweep in one process does."""
    for name in ("first", "second"):
        args = argument_parser().parse_args(["--config-file", f"{REPO}/projects/PAENet/configs/synthvi.yml",
                                             "OUTPUT_DIR", str(tmp_path / name), "MODEL.DEVICE", "cpu"])
        setup(args)
        logging.getLogger("fastreid_ext.engine").info("ours in %s", name)
    out = capsys.readouterr().out
    one, two = _log_files(tmp_path / "first", tmp_path / "second")
    assert out.count("ours in second") == 1
    # FastReID's own lines of the second start (its full config) are printed once and not in the first log.
    assert out.count("Running with full config") == 2
    assert one.count("Running with full config") == 1 and two.count("Running with full config") == 1
    assert "ours in second" not in one and two.count("ours in second") == 1
