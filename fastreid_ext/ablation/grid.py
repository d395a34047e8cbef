"""What an ablation grid is: cells, each a training run (config file + overrides) and the row it reports."""
from dataclasses import dataclass, field

from fastreid.utils.registry import Registry

GRID_REGISTRY = Registry("ABLATION_GRID")
GRID_REGISTRY.__doc__ = "Named ablation grids: functions returning a Grid (projects register theirs)."


@dataclass(frozen=True)
class Cell:
    """One row of a grid's table.

    Args:
        config: the row's name in ``results.json`` (e.g. ``"pae+aal"``).
        run: the training run that produces it; cells with the same ``run`` share one training.
        config_file: the run's YAML, relative to the repository root.
        opts: ``KEY VALUE`` overrides of the run (a flat list, as on the command line).
        attributes: the test-time attribute source whose metrics the row reports (``TEST.ATTRIBUTES``);
            None for models that read no attributes.
    """
    config: str
    run: str
    config_file: str
    opts: tuple = ()
    attributes: str = None


@dataclass(frozen=True)
class Grid:
    """Cells evaluated on one setting (``TEST.SETTINGS``) of one dataset, all with the same budget."""
    name: str
    cells: tuple
    dataset: str = "SYSUMM01"
    setting: str = "all-1shot-seeded"
    description: str = ""
    common_opts: tuple = field(default=())

    def runs(self) -> dict[str, tuple[str, tuple, list[str]]]:
        """run name -> (config_file, opts, [attribute sources to evaluate]) in first-seen order."""
        runs = {}
        for cell in self.cells:
            config_file, opts, sources = runs.setdefault(cell.run, (cell.config_file, cell.opts, []))
            if (config_file, opts) != (cell.config_file, cell.opts):
                raise ValueError(f"grid {self.name}: cells of run {cell.run!r} disagree on config or opts")
            if cell.attributes is not None and cell.attributes not in sources:
                sources.append(cell.attributes)
        return runs
