import csv
import io
import json

from fastreid_ext.search.results import CSV_COLUMNS, RESULT_FORMATS

RESULTS = [
    {"query": {"img_path": "q/cam3/0001/0001.jpg", "pid": 1, "camid": 3, "modality": 1},
     "matches": [{"rank": 1, "score": 0.5, "id": 7, "img_path": "g/a.jpg", "pid": None, "camid": None, "modality": 0},
                 {"rank": 2, "score": 0.25, "id": 2, "img_path": "g/b.jpg", "pid": 1, "camid": 1, "modality": 0}]},
    {"query": {"img_path": "upload.png", "pid": None, "camid": None, "modality": 1}, "matches": []},
]


def test_json_round_trip():
    out = io.StringIO()
    RESULT_FORMATS["json"](RESULTS, out)
    assert json.loads(out.getvalue()) == RESULTS


def test_csv_has_one_row_per_match():
    out = io.StringIO()
    RESULT_FORMATS["csv"](RESULTS, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [tuple(row.values()) for row in rows] == [
        ("q/cam3/0001/0001.jpg", "1", "3", "1", "1", "0.5", "7", "g/a.jpg", "", "", "0"),
        ("q/cam3/0001/0001.jpg", "1", "3", "1", "2", "0.25", "2", "g/b.jpg", "1", "1", "0")]
