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
_INT_RESULT_LIMIT = 1e15  # an integral float below this is returned as an int: 6/2 gives 3
_HINT = "Give a plain arithmetic expression such as (3 + 4) * 2."
_STRIP = " \t\r\n'\"`"
# ^ becomes ** in the text (not BitXor -> pow in the tree): Python ranks ^ below +, so the
# tree of "2^3+1" is 2^(3+1). As text, "2^3+1" is 9 and "2^3^2" is 512, as in math.
_REPLACE = {"×": "*", "∗": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "^": "**", "π": "pi"}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}  # fmt: skip
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def _factorial(n: float) -> int:
    if n != int(n) or not 0 <= n <= MAX_FACTORIAL:
        raise ValueError(f"factorial needs a whole number from 0 to {MAX_FACTORIAL}")
    return math.factorial(int(n))


def _round(x: float, digits: float = 0) -> float:
    if digits != int(digits):
        raise ValueError("the digits to round to must be a whole number")
    return round(x, int(digits))


def _log(x: float, base: float = math.e) -> float:
    # math.log(1000, 10) is 2.9999999999999996; log10 and log2 are exact on powers
    return math.log10(x) if base == 10 else math.log2(x) if base == 2 else math.log(x, base)


# name -> (function, fewest arguments, most arguments or None for any number)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    **{name: (getattr(math, name), 1, 1) for name in ("sqrt", "floor", "ceil", "log10", "log2", "exp")},
    **{name: (getattr(math, name), 1, 1) for name in ("sin", "cos", "tan")},
    "abs": (abs, 1, 1), "round": (_round, 1, 2), "log": (_log, 1, 2), "factorial": (_factorial, 1, 1),
    "min": (lambda *xs: min(xs), 1, None), "max": (lambda *xs: max(xs), 1, None),
}  # fmt: skip


class _Evaluator:
    """One evaluation: the normalised text, where each of its characters came from, the walk."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        body = raw.lstrip(_STRIP)
        start, body = len(raw) - len(body), body.rstrip(_STRIP + "=")
        self.text = "".join(_REPLACE.get(ch, ch) for ch in body)
        # index in ``raw`` of each character of ``text``, so columns match what the model wrote
        self.origin = [i for i, ch in enumerate(body, start) for _ in _REPLACE.get(ch, ch)]

    def fail(self, reason: str, index: int | None = None) -> NoReturn:
        """Raise the ToolError the model reads; ``index`` is 0-based in ``self.text``."""
        where = ""
        if index is not None and self.origin:
            where = f" at column {self.origin[min(max(index, 0), len(self.origin) - 1)] + 1}"
        shown = self.raw.strip() if len(self.raw.strip()) <= 80 else self.raw.strip()[:77] + "..."
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
        if not self.text.strip() or len(self.text) > MAX_LENGTH:
            self.fail(f"the expression is empty or longer than {MAX_LENGTH} characters")
        try:
            value = self.eval(ast.parse(self.text, mode="eval").body)
        except SyntaxError as exc:
            self.fail(f"it is not valid arithmetic ({exc.msg})", (exc.offset or 1) - 1)
        except (MemoryError, RecursionError):  # very deep nesting: the parser raises MemoryError
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
            if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and right > 0:
                # refuse before computing: 9**9**9 would otherwise run for minutes
                if abs(left) > 1 and right * math.log10(abs(left)) > MAX_DIGITS:
                    self.fail(f"the result would have more than {MAX_DIGITS} digits", self.where(node))
            return self.apply(_BINARY[type(node.op)], (left, right), node)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self.apply(_UNARY[type(node.op)], (self.eval(node.operand),), node)
        if isinstance(node, ast.Name):
            name = node.id.lower()
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            if name in _FUNCTIONS:
                self.fail(f"{node.id} is a function: call it as {name}(...)", self.column(node))
            self.fail(f"unknown name {node.id[:40]!r} (known constants: pi, e)", self.column(node))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Tuple):
            # "1,000" parses as the tuple (1, 0): point at the first comma
            comma = self.text.find(",", self.column(node.elts[0], end=True)) if node.elts else self.column(node)
            self.fail("a comma outside a function call (write 1000, not 1,000, and 1.5, not 1,5)", comma)
        kind = type(getattr(node, "op", node)).__name__  # LShift, Compare, Attribute, ...
        self.fail(f"{kind} is not arithmetic (use numbers, + - * / // % ^ and the functions)", self.where(node))

    def call(self, node: ast.Call) -> int | float:
        if not isinstance(node.func, ast.Name):  # 2(3), (1+2)(3), os.system(...)
            self.fail("only a function name may come before '(': write 2 * (3), not 2(3)", self.column(node))
        name = node.func.id.lower()
        if name in _CONSTANTS:
            self.fail(f"{node.func.id} is a constant, not a function", self.column(node))
        if name not in _FUNCTIONS:
            known = ", ".join(_FUNCTIONS)
            self.fail(f"unknown function {node.func.id[:40]!r} (known: {known})", self.column(node))
        fn, fewest, most = _FUNCTIONS[name]
        count = len(node.args)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(f"{name}() takes plain numbers, not keywords or *", self.column(node))
        if count < fewest or (most is not None and count > most):
            wanted = f"{fewest}" + ("" if most == fewest else " or more" if most is None else f" or {most}")
            self.fail(f"{name}() takes {wanted} argument(s), not {count}", self.column(node))
        return self.apply(fn, tuple(self.eval(a) for a in node.args), node, f"{name}(): ")

    def apply(self, fn: Callable[..., Any], args: tuple[Any, ...], node: ast.expr, what: str = "") -> int | float:
        try:
            value = fn(*args)
        except ZeroDivisionError:
            self.fail("division by zero", self.where(node))
        except OverflowError:
            self.fail(f"{what}the result is too large", self.where(node))
        except (ValueError, TypeError) as exc:
            self.fail(f"{what}undefined for {', '.join(map(str, args))[:60]} ({exc})", self.where(node))
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
