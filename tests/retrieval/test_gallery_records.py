import numpy as np
import pytest

from fastreid_ext.retrieval.records import GalleryRecords, as_columns, check_ids, describe_ids


def test_as_columns_from_rows_or_columns():
    rows = [{"img_path": "a.jpg", "pid": np.int64(3)}, {"img_path": "b.jpg", "camid": 2}]
    assert as_columns(rows, 2) == {"img_path": ["a.jpg", "b.jpg"], "pid": [3, None],
                                   "camid": [None, 2]}
    assert type(as_columns(rows, 2)["pid"][0]) is int
    assert as_columns({"time": np.array([1.5, 2.0])}, 2) == {"time": [1.5, 2.0]}
    assert as_columns(None, 5) == {}
    with pytest.raises(ValueError, match="column 'time' has 1 values for 2 features"):
        as_columns({"time": [1.0]}, 2)


def test_check_ids():
    np.testing.assert_array_equal(check_ids(np.array([5, 2**40], np.uint64), 2), [5, 2**40])
    assert check_ids([], 0).dtype == np.int64
    with pytest.raises(ValueError, match=r"within one add: \[3, 8\]"):
        check_ids([3, 8, 3, 1, 8], 5)


def test_describe_ids_caps_the_list():
    assert describe_ids(range(3)) == "[0, 1, 2]"
    assert describe_ids(range(13)) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] and 3 more"


def test_append_and_rows():
    records = GalleryRecords()
    assert not records.contains([1]).any()
    records.append(np.array([30, 10]), {"pid": [3, 1]})
    records.append(np.array([20]), {"camid": [2]})
    assert records.columns == {"pid": [3, 1, None], "camid": [None, None, 2]}
    np.testing.assert_array_equal(records.positions([20, 30]), [2, 0])
    np.testing.assert_array_equal(records.ids, [30, 10, 20])
    assert records.rows(np.array([[20, -1], [10, 20]])) == [
        [{"id": 20, "pid": None, "camid": 2}, None],
        [{"id": 10, "pid": 1, "camid": None}, {"id": 20, "pid": None, "camid": 2}]]
    with pytest.raises(KeyError, match=r"\[40\]"):
        records.rows([40])
    with pytest.raises(ValueError, match=r"already in the gallery: \[10\]"):
        records.append(np.array([10]), {})
