"""``where`` expressions over gallery metadata columns, e.g. ``backpack >= 0.5 and camid in (3, 6)``:
a tokenizer and a recursive-descent parser (no ``eval``), evaluated on numpy columns."""
import operator
import re
from collections.abc import Callable, Collection, Iterable

import numpy as np

from ..utils import UserError

_TOKEN = re.compile(r"""\s*(?:(?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|-?\.\d+(?:[eE][-+]?\d+)?)
                         |(?P<string>'[^']*'|"[^"]*")
                         |(?P<name>[A-Za-z_][A-Za-z_0-9]*)
                         |(?P<op><=|>=|==|!=|<|>)
                         |(?P<punct>[(),]))""", re.VERBOSE)
_KEYWORDS = ("and", "or", "not", "in")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
            "!=": operator.ne}


class WhereError(UserError, ValueError):
    """A malformed ``where`` expression or one naming an unknown column."""


def _tokens(text, error):
    tokens, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise error(f"cannot read {text[at:].strip()!r} (position {at})")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "number":
            value = float(value) if re.search(r"[.eE]", value) else int(value)
        elif kind == "string":
            value = value[1:-1]
        elif (kind == "name" and value in _KEYWORDS) or kind == "punct":
            kind = value
        tokens.append((kind, value))
        at = match.end()
    return tokens


class _Parser:
    """expr := and ("or" and)*; and := not ("and" not)*; not := "not" not | atom;
    atom := "(" expr ")" | NAME OP value | NAME ["not"] "in" "(" value ("," value)* ")"."""

    def __init__(self, text, columns):
        self.text, self.columns = text, columns
        self.tokens, self.at = _tokens(text, self.error), 0

    def error(self, message):
        return WhereError(f"where {self.text!r}: {message}; columns: {sorted(self.columns)}")

    def peek(self):
        return self.tokens[self.at][0] if self.at < len(self.tokens) else "end"

    def take(self, *kinds):
        if self.peek() not in kinds:
            found = self.tokens[self.at][1] if self.at < len(self.tokens) else "the end"
            raise self.error(f"expected {' or '.join(kinds)}, found {found!r}")
        self.at += 1
        return self.tokens[self.at - 1][1]

    def parse(self):
        if not self.tokens:
            raise self.error("the expression is empty")
        tree = self.disjunction()
        if self.peek() != "end":
            raise self.error(f"unexpected {self.tokens[self.at][1]!r}")
        return tree

    def disjunction(self):
        return self.chain("or", self.conjunction)

    def conjunction(self):
        return self.chain("and", self.negation)

    def chain(self, op, operand):
        """``operand (op operand)*``: the operand's tree alone, or ``(op, [trees])``."""
        parts = [operand()]
        while self.peek() == op:
            self.take(op)
            parts.append(operand())
        return parts[0] if len(parts) == 1 else (op, parts)

    def negation(self):
        if self.peek() == "not":
            self.take("not")
            return ("not", self.negation())
        return self.atom()

    def value(self):
        return self.take("number", "string")

    def atom(self):
        if self.peek() == "(":
            self.take("(")
            tree = self.disjunction()
            self.take(")")
            return tree
        name = self.take("name")
        if name not in self.columns:
            raise self.error(f"unknown column {name!r}")
        if self.peek() == "op":
            return ("cmp", name, self.take("op"), self.value())
        negated = self.peek() == "not"
        if negated:
            self.take("not")
        self.take("in")
        self.take("(")
        values = [self.value()]
        while self.peek() == ",":
            self.take(",")
            values.append(self.value())
        self.take(")")
        tree = ("in", name, tuple(values))
        return ("not", tree) if negated else tree


def parse_where(text: str, columns: Iterable[str]) -> tuple:
    """Parse ``text`` into a tree of tuples: ``("cmp", name, op, value)``, ``("in", name, values)``,
    ``("not", tree)``, ``("and", [trees])``, ``("or", [trees])``.

    Args:
        columns: the valid column names; a :class:`WhereError` lists them.
    """
    if not isinstance(text, str):
        raise WhereError(f"where must be a string, got {type(text).__name__}")
    return _Parser(text, set(columns)).parse()


def evaluate(tree: tuple, column: Callable[[str], np.ndarray]) -> np.ndarray:
    """(N,) bool: the rows that satisfy ``tree``; ``column(name)`` returns an (N,) numpy array (float
    with NaN, or object, for missing values). A comparison with a missing value is false."""
    op = tree[0]
    if op == "and":
        return np.logical_and.reduce([evaluate(t, column) for t in tree[1]])
    if op == "or":
        return np.logical_or.reduce([evaluate(t, column) for t in tree[1]])
    if op == "not":
        return ~evaluate(tree[1], column)
    values = column(tree[1])
    if op == "in":
        return np.isin(values, np.asarray(tree[2], dtype=object if values.dtype == object else None))
    compare, value = _COMPARE[tree[2]], tree[3]
    if values.dtype == object:
        try:
            return np.array([v is not None and bool(compare(v, value)) for v in values], bool)
        except TypeError:
            raise WhereError(f"column {tree[1]!r} cannot be compared with {value!r}") from None
    if isinstance(value, str):
        raise WhereError(f"column {tree[1]!r} holds numbers: compare it with a number, not {value!r}")
    with np.errstate(invalid="ignore"):
        return compare(values, value) & ~np.isnan(values)


def probability_terms(tree: tuple, names: Collection[str], negated: bool = False) -> list[tuple[str, int]]:
    """``[(name, polarity), ...]``: every comparison of a probability column of ``names`` in ``tree``,
    polarity +1 for ``>``/``>=``/``==`` and -1 for ``<``/``<=``/``!=``, flipped under each ``not``."""
    op = tree[0]
    if op in ("and", "or"):
        return [term for t in tree[1] for term in probability_terms(t, names, negated)]
    if op == "not":
        return probability_terms(tree[1], names, not negated)
    if op != "cmp" or tree[1] not in names:
        return []
    polarity = 1 if tree[2] in (">", ">=", "==") else -1
    return [(tree[1], -polarity if negated else polarity)]


def joint_probability(tree: tuple, column: Callable[[str], np.ndarray], names: Iterable[str], n: int) -> np.ndarray:
    """(n,) the joint probability of the attributes ``tree`` describes, as if independent: the product,
    over every comparison of a probability column of ``names`` in ``tree``, of p for ``>``, ``>=``, ``==``
    and 1 - p for ``<``, ``<=``, ``!=`` (the other way round under an odd number of ``not``); 1 when it
    describes none, 0 where a probability is missing."""
    score = np.ones(n)
    for name, polarity in probability_terms(tree, set(names)):
        p = column(name)
        score = score * np.where(np.isnan(p), 0.0, p if polarity > 0 else 1 - p)
    return score
