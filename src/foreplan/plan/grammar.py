"""A GBNF grammar that only admits well-formed plans for one toolkit.

Generated from the toolkit, it lets the planner write nothing but::

    Plan: <one line of reasoning>
    #E<k> = <a tool of this toolkit>[<input that may cite #E1 .. #E<k-1>>]

Step ``k`` may only reference earlier steps (``#E1`` .. ``#E<k-1>``, with typed fields
such as ``#E2.rows[0].Title``), so forward references and cycles cannot be sampled. The
grammar may end after any complete step: one that only lets the model stop at the
maximum makes small models pad plans with repeated steps (DESIGN.md).
"""

from __future__ import annotations

import json

from foreplan.tools.toolkit import Toolkit

DEFAULT_MAX_STEPS = 8

_COMMON = r"""
gap ::= "\n" "\n"?
plan-text ::= [^\n]+
plain ::= [^#\[\]\n]
bracketed ::= "[" [^#\[\]\n]* "]"
sep ::= [^#\[\]\n0-9]
field ::= "." [A-Za-z_] [A-Za-z0-9_]* | "[" [0-9]+ "]"
"""


def _literal(text: str) -> str:
    return json.dumps(text)  # GBNF string literals share JSON's escapes


def plan_grammar(toolkit: Toolkit, max_steps: int = DEFAULT_MAX_STEPS) -> str:
    """GBNF source for plans of 1 .. ``max_steps`` steps using ``toolkit``'s tools.

    Raises:
        ValueError: the toolkit is empty or ``max_steps`` < 1.
    """
    if not len(toolkit):
        raise ValueError("a plan grammar needs at least one tool")
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    rules = [f"tool ::= {' | '.join(_literal(n) for n in toolkit.names)}"]
    # root ::= step1 (gap step2 (gap step3)?)? "\n"?   -- may stop after any complete step
    root = f"step{max_steps}"
    for k in range(max_steps - 1, 0, -1):
        root = f"step{k} (gap {root})?"
    rules.insert(0, f'root ::= {root} "\\n"?')
    for k in range(1, max_steps + 1):
        rules.append(f'step{k} ::= "Plan: " plan-text "\\n#E{k} = " tool "[" input{k} "]"')
        if k == 1:
            rules.append("input1 ::= (plain | bracketed)+")
        else:
            earlier = " | ".join(_literal(str(i)) for i in range(k - 1, 0, -1))
            rules.append(f'ref{k} ::= "#E" ({earlier}) field*')
            rules.append(f"input{k} ::= (plain | bracketed | ref{k} sep)+ ref{k}? | ref{k}")
    return "\n".join(rules) + "\n" + _COMMON.lstrip()
