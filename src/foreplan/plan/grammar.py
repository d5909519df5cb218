"""A GBNF grammar that only admits well-formed plans for one toolkit.

Generated from the toolkit, it lets the planner write nothing but::

    Plan: <one line of reasoning>
    #E<k> = <a tool of this toolkit>[<input that may cite #E1 .. #E<k-1>>]

Step ``k`` may only reference earlier steps (``#E1`` .. ``#E<k-1>``, with typed fields
such as ``#E2.rows[0].Title``), so forward references and cycles cannot be sampled. The
grammar may end after any complete step: one that only lets the model stop at the
maximum makes small models pad plans with repeated steps (DESIGN.md).

It admits only what :func:`~foreplan.plan.parse.parse_plan` reads back as the same steps
and :func:`~foreplan.plan.validate.validate_plan` passes (inputs still have to fit their
tools' schemas): inputs hold balanced, nested brackets and at least one non-blank
character, and a plan line holds no ``[`` or ``#E`` (so no text on it reads as a step).

Tools named in ``named`` take their input only as keyword arguments, one for each of the
tool's own arguments, required ones first, in its schema's order
(``order_taxi[location='Eiffel Tower', platform='Uber']``): the repair round uses it for a
step whose input did not fit its tool (three values for two arguments, an argument the
tool does not have), since the 1.5B, told in words, wrote the same misfit again.
"""

from __future__ import annotations

import json
import types
import typing

from foreplan.llm.base import Choice
from foreplan.tools.toolkit import Toolkit

DEFAULT_MAX_STEPS = 8

#: Characters ``str.strip`` removes, less ``\n``: an input made only of these would parse
#: to an empty input, which the validator refuses.
_BLANK = r"[ \t\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

# A plan line holds no "[": otherwise "Plan: ... #E5 = tool[x]" would read as a step. Nor
# "#E": small planners given many tools start writing the step itself on the plan line
# ("Plan: #E1 = tool(...)") and then repeat it until the token limit; without "#E" the
# line has to say what the step does, and the step follows on its own line. It says it
# in words: without a worked example for its tools, the 1.5B wrote "Plan: #1" above every
# step, which leaves the solver nothing to read; numbers and punctuation may only come
# before the first word ("1. Divide ...").
# In an input, "#" starts either a reference to an earlier step or a "#" that is not
# followed by "E" ("C#", "#1"); a reference is followed by no digit (#E1 is not #E10).
_COMMON = rf"""
gap ::= "\n" "\n"?
plan-text ::= decor* [^\[\n# \t0-9.:,;()*-] ([^\[\n#] | "#"+ [^E#\[\n])* "#"*
decor ::= [ \t0-9.:,;()*-]
blank ::= {_BLANK}
solid ::= [^#\[\]\n{_BLANK[1:-1]}]
plain ::= [^#\[\]\n]
hash ::= "#" [^E#\[\]\n]
sep ::= [^#\[\]\n0-9]
field ::= "." [A-Za-z_] [A-Za-z0-9_]* | "[" [0-9]+ "]"
"""


def _literal(text: str) -> str:
    return json.dumps(text)  # GBNF string literals share JSON's escapes


def _input_rules(k: int) -> list[str]:
    """Rules for step ``k``'s input: text, nested brackets, ``#`` and (for k > 1)
    references to ``#E1`` .. ``#E<k-1>``, with at least one non-blank character."""
    unit = f"plain | hash | bracketed{k}"
    first = f"solid | hash | bracketed{k}"
    end = '"#"'
    rules = []
    if k > 1:
        earlier = " | ".join(_literal(str(i)) for i in range(k - 1, 0, -1))
        rules.append(f'ref{k} ::= "#E" ({earlier}) field*')
        unit += f" | ref{k} sep"
        first += f" | ref{k} sep"
        end = f'ref{k} | "#"'
    rules += [
        f"unit{k} ::= {unit}",
        f"end{k} ::= {end}",
        f'bracketed{k} ::= "[" unit{k}* end{k}? "]"',
        f"input{k} ::= blank* ({first}) unit{k}* end{k}? | blank* end{k}",
    ]
    return rules


def _value_rules(k: int) -> list[str]:
    """Step ``k``'s keyword values, by the kind of argument: text is a quoted string (which
    may cite earlier steps), a number is a number (without a point for an integer), a flag
    is true or false, and anything else may be any of these or a list; a reference fits
    every kind (the worker checks its value). A string holds the other kind of quote
    (``"John's"``), and no backslash or bracket, so that it reads back as written."""
    ref = f" | ref{k}" if k > 1 else ""
    rules = []
    for name, quote in (("sq", "'"), ("dq", '"')):
        char = rf"[^{quote}\\\n\[\]#]"
        hashed = rf'"#" [^E#{quote}\\\n\[\]]'
        pieces = f"{char} | {hashed}" + (rf" | ref{k} [^#{quote}\\\n\[\]0-9]" if ref else "")
        body = f"({pieces})+" + (f" ref{k}? | ref{k}" if ref else "")
        rules.append(f"{name}{k} ::= {_literal(quote)} ({body}) {_literal(quote)}")
    rules += [
        f"text{k} ::= sq{k} | dq{k}{ref}",
        f'integer{k} ::= "-"? [0-9]+{ref}',
        f'number{k} ::= "-"? [0-9]+ ("." [0-9]+)?{ref}',
        f'flag{k} ::= "true" | "false"{ref}',
        f'value{k} ::= sq{k} | dq{k} | number{k} | flag{k} | "[" (value{k} (", " value{k})*)? "]"',
    ]
    return rules


_KINDS = {str: "text", int: "integer", float: "number", bool: "flag"}


def _kind(annotation: object) -> str:
    """The value rule for an argument's annotation (``str | None`` is text)."""
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(options) == 1:
        annotation = options[0]
    return _KINDS.get(annotation, "value")  # type: ignore[call-overload]


def _named_call(toolkit: Toolkit, name: str, k: int) -> str:
    """``name[a=<value>, b=<value>(, c=<value>)?]``: the required arguments in the schema's
    order, then each optional one, or not; each value of its argument's kind."""
    fields = toolkit.get(name).args_model.model_fields
    ordered = sorted(fields.items(), key=lambda item: not item[1].is_required())
    body = ""
    for i, (arg, field) in enumerate(ordered):
        piece = f"{_literal((', ' if i else '') + arg + '=')} {_kind(field.annotation)}{k}"
        body += f" {piece}" if field.is_required() or i == 0 else f" ({piece})?"
    return f'{_literal(name + "[")}{body} "]"'


def plan_grammar(toolkit: Toolkit, max_steps: int = DEFAULT_MAX_STEPS, first: int = 1,
                 named: frozenset[str] | set[str] = frozenset()) -> str:
    """GBNF source for plans of 1 .. ``max_steps`` steps using ``toolkit``'s tools, numbered
    from ``#E<first>`` (a replan continues after the steps that already ran, and may cite
    them all). Tools in ``named`` take keyword arguments only (those of them in the
    toolkit that the caller fills: a one-input tool reads its whole input as that input).

    Raises:
        ValueError: the toolkit is empty, ``max_steps`` < 1 or ``first`` < 1.
    """
    if not len(toolkit):
        raise ValueError("a plan grammar needs at least one tool")
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    if first < 1:
        raise ValueError("first must be at least 1")
    last = first + max_steps - 1
    # root ::= step1 (gap step2 (gap step3)?)? "\n"?   -- may stop after any complete step
    root = f"step{last}"
    for k in range(last - 1, first - 1, -1):
        root = f"step{k} (gap {root})?"
    keyworded = [n for n in toolkit.names if n in named and toolkit.get(n).single_input is None
                 and toolkit.get(n).args_model.model_fields]
    free = [n for n in toolkit.names if n not in keyworded]
    rules = [f'root ::= {root} "\\n"?']
    if free:
        rules.append(f"tool ::= {' | '.join(_literal(n) for n in free)}")
    for k in range(first, last + 1):
        calls = ([f'tool "[" input{k} "]"'] if free else []) + [f"call{k}-{i}" for i in range(len(keyworded))]
        rules.append(f'step{k} ::= "Plan: " plan-text "\\n#E{k} = " ({" | ".join(calls)})')
        rules += _input_rules(k)
        if keyworded:
            rules += [f"call{k}-{i} ::= {_named_call(toolkit, n, k)}" for i, n in enumerate(keyworded)]
            rules += _value_rules(k)
    return "\n".join(rules) + "\n" + _COMMON.lstrip()


def tool_choices(toolkit: Toolkit) -> tuple[Choice, ...]:
    """Each step's tool name as one whole choice (llm/choice.py): ``#E<k> =`` goes on with
    the most likely of the toolkit's names, whether or not the model has written the
    space yet.

    Each name is scored with the ``[`` the grammar requires after it, so a name the model
    would not go on with as a plan step loses (and no name is a prefix of another); the
    model then writes the bracket itself. Node F1 gained over first-token choice on
    TaskBench's test records (1.5B, ``--keyword-arguments``), by how a name is scored: the
    name alone +1.1 (first 98 records), with any token that starts with ``[`` +1.6 (first
    68), with the ``[`` token written too +2.4, with it scored and left to the model +2.0
    (100 each). Writing the bare ``[`` token (rather than the ``["`` the model prefers)
    changed how the 1.5B wrote inputs after it: unquoted, with an extra value
    (``query_sql[notes/insert, "INSERT ..."]``)."""
    names = toolkit.names
    return (Choice(r"#E[0-9]+ =", tuple(f" {n}" for n in names), "["),
            Choice(r"#E[0-9]+ = ", tuple(names), "["))
