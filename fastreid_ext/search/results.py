"""Search results (from :func:`~fastreid_ext.search.pipeline.search`) as JSON or CSV."""
import csv
import json
from collections.abc import Iterable
from typing import TextIO

# Columns of the CSV format: the query's, then the match's.
CSV_COLUMNS = ("query_img_path", "query_pid", "query_camid", "query_modality",
               "rank", "score", "id", "img_path", "pid", "camid", "modality")


def write_json(results: list[dict], f: TextIO) -> None:
    """The results as one JSON list of ``{"query": {...}, "matches": [...]}``."""
    json.dump(results, f, indent=1)
    f.write("\n")


def write_csv(results: Iterable[dict], f: TextIO) -> None:
    """One row per (query, match), with the columns of :data:`CSV_COLUMNS`; unknown values are empty."""
    writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for result in results:
        query = {f"query_{key}": value for key, value in result["query"].items()}
        for match in result["matches"]:
            writer.writerow({**query, **match})


# --format name -> writer(results, text file).
RESULT_FORMATS = {"json": write_json, "csv": write_csv}
