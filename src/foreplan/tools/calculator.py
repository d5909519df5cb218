"""Arithmetic for the planner, by a real expression parser and never ``eval``.

Small models are bad at arithmetic, so a plan hands sums to this tool
(``#E2 = calculator[(2 * 5 - 10) - 8]``). Its input is model output, so it is parsed
with ``ast.parse(mode="eval")`` and only whitelisted nodes are evaluated:

    text ─ strip quotes, "=", map × ÷ − ^ ─> ast ─ whitelist walk ─> int | float
                                               └─ anything else ─> ToolError (with column)

Size guards keep one bad step from hanging the worker: an int result may have at most
``MAX_DIGITS`` digits, checked *before* a power is computed, and ``factorial`` stops at
1000. The digit cap sits below CPython's 4300-digit int-to-str limit (CVE-2020-10735),
so every result can still be printed as evidence.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any, NoReturn

from foreplan.errors import ToolError
from foreplan.tools.tool import tool

MAX_DIGITS = 4000
MAX_LENGTH = 1000
MAX_FACTORIAL = 1000
_INT_RESULT_LIMIT = 1e15
"""An integral float below this is returned as an int (6/2 -> 3); larger ones stay floats."""
_HINT = "Give a plain arithmetic expression such as (3 + 4) * 2."
_STRIP = " \t\r\n'\"`"
# ^ becomes ** in the text (not BitXor -> pow in the tree): Python ranks ^ below +, so the
# tree of "2^3+1" is 2^(3+1). As text, "2^3+1" is 9 and "2^3^2" is 512, as in math.
_REPLACE = {"×": "*", "∗": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "^": "**", "π": "pi"}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def _factorial(n: float) -> int:
    if n != int(n) or not 0 <= n <= MAX_FACTORIAL:
        raise ValueError(f"factorial needs a whole number from 0 to {MAX_FACTORIAL}, got {n}")
    return math.factorial(int(n))


# name -> (function, fewest arguments, most arguments or None for any number)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "sqrt": (math.sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
    "min": (lambda *xs: min(xs), 1, None),
    "max": (lambda *xs: max(xs), 1, None),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "log": (math.log, 1, 2),
    "log10": (math.log10, 1, 1),
    "log2": (math.log2, 1, 1),
    "exp": (math.exp, 1, 1),
    "sin": (math.sin, 1, 1),
    "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1),
    "factorial": (_factorial, 1, 1),
}


class _Evaluator:
    """One evaluation: the normalised text, where each of its characters came from, the walk."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        start, end = 0, len(raw)
        while start < end and raw[start] in _STRIP:
            start += 1
        while end > start and raw[end - 1] in _STRIP + "=":
            end -= 1
        chars: list[str] = []
        self.origin: list[int] = []  # index in ``raw`` of each character of ``text``
        for i in range(start, end):
            piece = _REPLACE.get(raw[i], raw[i])
            chars.append(piece)
            self.origin.extend([i] * len(piece))
        self.text = "".join(chars)

    def fail(self, reason: str, index: int | None = None) -> NoReturn:
        """Raise the ToolError the model reads; ``index`` is 0-based in ``self.text``."""
        where = ""
        if index is not None and self.origin:
            column = self.origin[min(max(index, 0), len(self.origin) - 1)] + 1
            where = f" at column {column}"
        shown = self.raw.strip()
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ToolError(f"cannot evaluate {shown!r}: {reason}{where}. {_HINT}")

    def column(self, node: ast.AST, end: bool = False) -> int:
        """0-based index in ``text`` of where ``node`` starts (or ends)."""
        offset = (node.end_col_offset if end else node.col_offset) or 0  # type: ignore[attr-defined]
        # ast offsets count UTF-8 bytes; ``text`` may still hold non-ASCII letters
        return len(self.text.encode()[:offset].decode(errors="ignore"))

    def where(self, node: ast.AST) -> int:
        """Index of a binary operator's symbol (the ``/`` of ``1 / 0``), else of the node."""
        if not isinstance(node, ast.BinOp):
            return self.column(node)
        i = self.column(node.left, end=True)
        while i < len(self.text) and self.text[i] in " )":
            i += 1
        return i

    def run(self) -> int | float:
        if not self.text.strip():
            self.fail("the expression is empty")
        if len(self.text) > MAX_LENGTH:
            self.fail(f"the expression is longer than {MAX_LENGTH} characters")
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            self.fail(f"it is not valid arithmetic ({exc.msg})", (exc.offset or 1) - 1)
        except (MemoryError, RecursionError):
            self.fail("it is nested too deeply")
        try:
            value = self.eval(tree.body)
        except RecursionError:
            self.fail("it is nested too deeply")
        if isinstance(value, float) and value.is_integer() and abs(value) < _INT_RESULT_LIMIT:
            return int(value)
        return value

    def eval(self, node: ast.expr) -> int | float:
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                self.fail(f"{node.value!r} is not a number", self.column(node))
            digits = ast.get_source_segment(self.text, node) or ""
            if len(digits) > 1 and set(digits) == {"0"}:
                self.fail("000 looks like a thousands separator: write 1000, not 1,000", self.column(node))
            return self.check(node.value, node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.eval(node.left), self.eval(node.right)
            if isinstance(node.op, ast.Pow):
                self.guard_power(left, right, node)
            return self.apply(_BINARY[type(node.op)], (left, right), node)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self.apply(_UNARY[type(node.op)], (self.eval(node.operand),), node)
        if isinstance(node, ast.Name):
            name = node.id.lower()
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            if name in _FUNCTIONS:
                self.fail(f"{node.id} is a function: call it as {name}(...)", self.column(node))
            self.fail(f"unknown name {node.id!r} (known constants: pi, e)", self.column(node))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Tuple):
            # "1,000" parses as the tuple (1, 0): point at the first comma
            if not node.elts:
                self.fail("empty parentheses", self.column(node))
            comma = self.text.find(",", self.column(node.elts[0], end=True))
            self.fail(
                "a comma outside a function call (write 1000, not 1,000, and 1.5, not 1,5)",
                comma if comma >= 0 else self.column(node),
            )
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            op = type(node.op).__name__
            self.fail(f"the operator {op} is not supported (use + - * / // % ** ^)", self.column(node))
        self.fail(f"{type(node).__name__} is not arithmetic", self.column(node))

    def call(self, node: ast.Call) -> int | float:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call):
                self.fail("a number followed by '(': write 2 * (3), not 2(3)", self.column(node.func, end=True))
            self.fail(f"{type(node.func).__name__} is not a function name", self.column(node))
        name = node.func.id.lower()
        if name in _CONSTANTS:
            self.fail(f"{node.func.id} is a constant, not a function", self.column(node))
        if name not in _FUNCTIONS:
            known = ", ".join(_FUNCTIONS)
            self.fail(f"unknown function {node.func.id!r} (known: {known})", self.column(node))
        fn, fewest, most = _FUNCTIONS[name]
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(f"{name}() takes plain positional numbers", self.column(node))
        if len(node.args) < fewest or (most is not None and len(node.args) > most):
            wanted = f"{fewest}" if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            self.fail(f"{name}() takes {wanted} argument(s), got {len(node.args)}", self.column(node))
        args = tuple(self.eval(a) for a in node.args)
        if name == "round" and len(args) == 2:
            if isinstance(args[1], float) and not args[1].is_integer():
                self.fail("round()'s second argument (digits) must be a whole number", self.column(node.args[1]))
            args = (args[0], int(args[1]))
        if name == "log" and len(args) == 2 and args[1] in (2, 10):
            # log(1000, 10) is 2.9999999999999996 by math.log; log10 gives exactly 3.0
            fn, args = (math.log2 if args[1] == 2 else math.log10), args[:1]
        return self.apply(fn, args, node, f"{name}(): ")

    def guard_power(self, base: int | float, exponent: int | float, node: ast.BinOp) -> None:
        """Refuse a power whose int result would pass MAX_DIGITS, before computing it."""
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
            if exponent * math.log10(abs(base)) > MAX_DIGITS:
                self.fail(f"the result would have more than {MAX_DIGITS} digits", self.where(node))

    def apply(self, fn: Callable[..., Any], args: tuple[Any, ...], node: ast.expr, what: str = "") -> int | float:
        try:
            value = fn(*args)
        except ZeroDivisionError:
            self.fail("division by zero", self.where(node))
        except OverflowError:
            self.fail(f"{what}the result is too large", self.where(node))
        except (ValueError, TypeError) as exc:
            self.fail(f"{what}undefined for {', '.join(map(str, args))} ({exc})", self.where(node))
        return self.check(value, node)

    def check(self, value: Any, node: ast.expr) -> int | float:
        if isinstance(value, complex):
            self.fail("the result is not a real number", self.where(node))
        if isinstance(value, float) and not math.isfinite(value):
            self.fail("the result is too large (or not a number)", self.where(node))
        if isinstance(value, int) and value.bit_length() > MAX_DIGITS / math.log10(2):
            self.fail(f"the result has more than {MAX_DIGITS} digits", self.where(node))
        return value


def evaluate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely.

    Args:
        expression: e.g. ``"(2 ∗ 5 − 10) − 8"``; surrounding quotes, backticks and a
            trailing ``=`` are ignored, and ``^`` means power.

    Returns:
        An int when the result is a whole number below 1e15 in size (6/2 gives 3),
        otherwise a float (7/2 gives 3.5).

    Raises:
        ToolError: the text is not arithmetic, uses something outside the whitelist, or
            the result is undefined or too large; the message gives the column.
    """
    return _Evaluator(expression).run()


@tool(timeout=5)
def calculator(expression: str) -> float | int:
    """Evaluate an arithmetic expression exactly, e.g. (2 * 5 - 10) - 8 or sqrt(16) + 2^10.
    Knows + - * / // % ^ (power), parentheses, sqrt, abs, round, min, max, floor, ceil,
    log, log10, log2, exp, sin, cos, tan, factorial, pi and e.

    Args:
        expression: Arithmetic only, such as (3 + 4) * 2: no words, units or thousands separators.

    Returns:
        The number (a whole number is given without decimals).
    """
    return evaluate(expression)
