import numpy as np
import pytest

from fastreid_ext.retrieval.where import WhereError, evaluate, parse_where, probability_terms

COLUMNS = {"backpack": np.array([0.9, 0.2, 0.6, np.nan]), "gender": np.array([0.1, 0.8, 0.3, 0.4]),
           "camid": np.array([3.0, 6.0, 1.0, 3.0]),
           "img_path": np.array(["a.jpg", "b.jpg", None, "d.jpg"], dtype=object)}


def _rows(text):
    return np.flatnonzero(evaluate(parse_where(text, COLUMNS), COLUMNS.__getitem__)).tolist()


def test_comparisons_boolean_operators_and_in():
    assert _rows("backpack >= 0.5") == [0, 2]  # a missing value satisfies no comparison
    assert _rows("backpack >= 0.5 and gender < 0.5") == [0, 2]
    assert _rows("backpack < 0.5 or camid == 1") == [1, 2]
    assert _rows("not backpack >= 0.5") == [1, 3]
    assert _rows("camid in (3, 6)") == [0, 1, 3]
    assert _rows("camid not in (3, 6)") == [2]
    assert _rows("not (camid == 3 or gender > 0.5) and backpack > .5") == [2]
    assert _rows("img_path == 'b.jpg' or img_path in (\"d.jpg\")") == [1, 3]
    assert _rows("gender<=0.3 and camid!=1") == [0]
    assert _rows("backpack > 1e-1 and camid >= -1") == [0, 1, 2]


@pytest.mark.parametrize("text, message", [
    ("bakpack >= 0.5", "unknown column 'bakpack'"),
    ("backpack >= ", "expected number or string, found 'the end'"),
    ("backpack >= 0.5 and", "expected name, found 'the end'"),
    ("(backpack >= 0.5", r"expected \), found 'the end'"),
    ("backpack >= 0.5)", r"unexpected '\)'"),
    ("backpack = 0.5", r"cannot read '= 0.5'"),
    ("__import__('os').system('ls')", r"cannot read \"\.system"),
    ("camid in 3", r"expected \(, found 3"),
    ("", "the expression is empty"),
])
def test_malformed_or_unknown_names_list_the_columns(text, message):
    with pytest.raises(WhereError, match=message) as error:
        parse_where(text, COLUMNS)
    assert "columns: ['backpack', 'camid', 'gender', 'img_path']" in str(error.value)


def test_type_errors_name_the_column():
    with pytest.raises(WhereError, match="column 'camid' holds numbers"):
        _rows("camid == 'x'")
    with pytest.raises(WhereError, match="column 'img_path' cannot be compared with 3"):
        _rows("img_path < 3")


def test_probability_terms_follow_polarity_and_not():
    tree = parse_where("backpack >= 0.5 and not gender > 0.5 and camid == 3 or not (backpack < 0.2)", COLUMNS)
    assert probability_terms(tree, {"backpack", "gender"}) == [("backpack", 1), ("gender", -1), ("backpack", 1)]
