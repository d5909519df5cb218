"""The ReAct baseline: think, act, observe, one LLM call per tool call.

    prompt + scratchpad ─► LLM ─► "Thought: ... Action: tool[input]"   (stops at "\\nObservation:")
          ▲                                   │
          └──── "Observation: <evidence>" ◄── call_tool
    ... until "Final Answer: ..." or ``max_iterations``

It runs on the same LLM protocol and the same :class:`~foreplan.tools.toolkit.Toolkit`
as the ReWOO agent (tools listed with ``toolkit.describe()``, called through
:func:`~foreplan.execute.dag.call_tool`), so the two can be compared on the same
questions, as the ReWOO paper (Xu et al. 2023, section 4) did. Every call re-reads the
whole prompt and scratchpad: that repeated prompt is the cost ReWOO avoids.

The scratchpad is sent as the start of the model's own reply (a final assistant message,
which foreplan's llama.cpp backend, ``foreplan serve`` and llama-server continue), so a
chat model carries on its trace instead of answering the whole prompt anew.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import jinja2

from foreplan.execute.dag import call_tool
from foreplan.llm.base import LLM, GenerationOptions
from foreplan.llm.meter import MeteredLLM
from foreplan.tools.context import RunContext
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Usage

DEFAULT_MAX_ITERATIONS = 6
STOP = "\nObservation:"
OBSERVATION_CHARS = 2000
"""Longer observations are cut: three wiki passages fit, a runaway tool output does not."""

# The classic ReAct prompt (Yao et al. 2022; the zero-shot form LangChain popularised),
# with the tool list written the way the ReWOO planner prompt writes it.
PROMPT = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True).from_string(
    """Answer the following question as best you can. You have access to the following tools:
{% for line in tools %}
({{ loop.index }}) {{ line }}
{%- endfor %}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take: a tool name, one of [{{ names }}], then its input in square brackets, like {{ first }}[...]
Observation: the result of the action
... (this Thought/Action/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original question
{% if example %}
For example:

{{ example }}
{% endif %}
Begin!

Question: {{ question }}"""
)

# The planner's worked examples (foreplan.plan.examples), the same tasks written as ReAct
# traces: both strategies see one example with the same tools, as in the ReWOO paper's
# side-by-side runs. The first whose tools are all in the toolkit is shown.
EXAMPLES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"get_current_time", "calculator", "LLM"}),
     """Question: What date is it in Tokyo, and about how many hours are left in this year there?
Thought: I need the current date in Tokyo and the days left in the year.
Action: get_current_time[Asia/Tokyo]
Observation: {"date": "2026-11-26", "timezone": "Asia/Tokyo", "days_left_in_year": 35}
Thought: Turn the days left into hours.
Action: calculator[35 * 24]
Observation: 840
Thought: I now know the final answer
Final Answer: It is 2026-11-26 in Tokyo; about 840 hours are left in the year."""),
    *((frozenset({search, "LLM"}),
       f"""Question: In what year was the director of the film 'Jaws' born?
Thought: Search for the film to find its director.
Action: {search}[Jaws film]
Observation: [{{"title": "Jaws (film)", "text": "Jaws is a 1975 American thriller film directed by Steven \
Spielberg.", "score": 11.2}}]
Thought: Name the director from what the search found.
Action: LLM[Who directed the film Jaws? Reply with the name only. Context: Jaws is a 1975 American thriller \
film directed by Steven Spielberg.]
Observation: Steven Spielberg
Thought: Search for the director.
Action: {search}[Steven Spielberg]
Observation: [{{"title": "Steven Spielberg", "text": "Steven Allan Spielberg (born December 18, 1946) is an \
American filmmaker.", "score": 12.5}}]
Thought: Find the director's year of birth in what the search found.
Action: LLM[In what year was Steven Spielberg born? Reply with the year only. Context: Steven Allan Spielberg \
(born December 18, 1946) is an American filmmaker.]
Observation: 1946
Thought: I now know the final answer
Final Answer: 1946""") for search in ("search_wiki", "search_web")),
    (frozenset({"calculator", "LLM"}),
     """Question: Thomas, Toby, and Rebecca worked a total of 157 hours in one week. Thomas worked x hours. \
Toby worked 10 hours less than twice what Thomas worked, and Rebecca worked 8 hours less than Toby. \
How many hours did Rebecca work?
Thought: Translate the problem into an equation for x and solve it.
Action: LLM[Solve x + (2x - 10) + ((2x - 10) - 8) = 157 for x. Reply with the number only.]
Observation: 37
Thought: Calculate the number of hours Rebecca worked.
Action: calculator[(2 * 37 - 10) - 8]
Observation: 56
Thought: I now know the final answer
Final Answer: 56"""),
    (frozenset({"LLM"}),
     """Question: Name a fruit that is yellow, then say which country grows the most of it.
Thought: Name a yellow fruit.
Action: LLM[Name one yellow fruit. Reply with its name only.]
Observation: Banana
Thought: Find the country that grows the most bananas.
Action: LLM[Which country grows the most bananas?]
Observation: India
Thought: I now know the final answer
Final Answer: Banana; India grows the most of it."""),
)

_FINAL_RE = re.compile(r"Final\s*Answer\s*:\s*(?P<answer>.*)", re.IGNORECASE | re.DOTALL)
# The input runs to the last "]" of its line (so nested brackets survive), or across lines
# when that line has none.
_ACTION_RE = re.compile(r"Action\s*\d*\s*:\s*(?P<tool>[^\[\n]*?)\s*\[(?P<input>[^\n]*)\]", re.IGNORECASE)
_ACTION_LINES_RE = re.compile(r"Action\s*\d*\s*:\s*(?P<tool>[^\[\n]*?)\s*\[(?P<input>.*?)\]", re.IGNORECASE | re.DOTALL)
# A small model often runs on past its answer into a new "Question:"; that is not the answer.
_NEXT_LABEL_RE = re.compile(r"\n\s*(?:Question|Thought|Action|Observation)\s*\d*\s*:", re.IGNORECASE)
_THOUGHT_RE = re.compile(r"^\s*Thought\s*:\s*", re.IGNORECASE)
_ACTION_INPUT_RE = re.compile(
    r"Action\s*\d*\s*:\s*(?P<tool>[^\n]+?)\s*\n\s*Action\s*\d*\s*Input\s*:\s*(?P<input>.*)", re.IGNORECASE | re.DOTALL
)


@dataclass
class ReActStep:
    """One iteration: what the model wrote and what it got back."""

    thought: str
    tool: str | None
    input: str | None
    observation: str | None
    """``None`` for the iteration that gave the final answer."""

    def to_dict(self) -> dict[str, Any]:
        return {"thought": self.thought, "tool": self.tool, "input": self.input, "observation": self.observation}


@dataclass
class ReActResult:
    question: str
    answer: str
    """Empty when the loop ran out of iterations (see ``finished``)."""
    usage: dict[str, Usage]
    """``react`` (the reasoning calls) and ``tools`` (the ``LLM`` tool)."""
    seconds: float
    iterations: int
    steps: list[ReActStep] = field(default_factory=list)
    finished: bool = True
    """False when ``max_iterations`` passed without a ``Final Answer``."""

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "finished": self.finished,
                "iterations": self.iterations, "steps": [s.to_dict() for s in self.steps],
                "usage": {role: u.to_dict() for role, u in self.usage.items()}, "seconds": round(self.seconds, 3)}


def parse_action(text: str) -> tuple[str, str] | None:
    """``(tool, input)`` from ``Action: tool[input]`` (or LangChain's ``Action: tool`` /
    ``Action Input: input``); ``None`` when the text names no action.

    Tolerant: the input runs to the last ``]`` of its line, quotes and backticks around the tool
    name or the input are dropped.
    """
    m = _ACTION_RE.search(text) or _ACTION_LINES_RE.search(text) or _ACTION_INPUT_RE.search(text)
    if m is None:
        return None
    name = m.group("tool").strip().strip("`'\"*").strip()
    value = m.group("input").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        value = value[1:-1].strip()
    return (name, value) if name else None


def run_react(
    llm: LLM,
    toolkit: Toolkit,
    question: str,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    max_tokens: int = 256,
) -> ReActResult:
    """Answer ``question`` with a ReAct loop.

    Args:
        llm: the model that thinks and acts; also answers the ``LLM`` tool.
        toolkit: the tools, called with their single text input.
        question: the task.
        max_iterations: LLM calls allowed before giving up (answer ``""``, ``finished`` False).
        max_tokens: completion budget of each call.

    Raises:
        LLMError: the backend failed (tool failures become observations instead).
    """
    started = time.perf_counter()
    reasoner, tools_llm = MeteredLLM(llm), MeteredLLM(llm)
    options = GenerationOptions(max_tokens=max_tokens, stop=(STOP,))
    names = ", ".join(toolkit.names)
    first = toolkit.names[0] if toolkit.names else "tool"
    example = pick_example(set(toolkit.names))
    describe = toolkit.describe()
    scratchpad = ""
    steps: list[ReActStep] = []
    prompt = PROMPT.render(tools=describe, names=names, first=first, example=example, question=question)
    context = RunContext(llm=tools_llm)
    for iteration in range(1, max_iterations + 1):
        # The trace so far is the start of the model's own reply, which it continues; as
        # a user message the model would start a new reply, often restating the question.
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": "Thought:" + scratchpad}]
        text = reasoner.generate(messages, options).text
        text = text.split(STOP)[0].rstrip()  # a backend may ignore the stop sequence
        text = _THOUGHT_RE.sub("", text, count=1)  # chat models restate the "Thought:" they were given
        action = parse_action(text)
        final = _FINAL_RE.search(text)
        if final is not None and (action is None or final.start() < text.find("Action")):
            answer = _NEXT_LABEL_RE.split(final.group("answer"))[0].strip()
            steps.append(ReActStep(text[: final.start()].strip(), None, None, None))
            return ReActResult(question, answer, _usage(reasoner, tools_llm),
                               time.perf_counter() - started, iteration, steps)
        observation = _observe(toolkit, action, context)
        thought = text[: text.find("Action")].strip() if action else text.strip()
        steps.append(ReActStep(thought, action[0] if action else None, action[1] if action else None, observation))
        scratchpad += f" {text.strip()}\nObservation: {observation}\nThought:"
    return ReActResult(question, "", _usage(reasoner, tools_llm), time.perf_counter() - started,
                       max_iterations, steps, finished=False)


def pick_example(tool_names: set[str]) -> str | None:
    """The first ReAct example that uses only ``tool_names``."""
    return next((text for needed, text in EXAMPLES if needed <= tool_names), None)


def _observe(toolkit: Toolkit, action: tuple[str, str] | None, context: RunContext) -> str:
    """What the model reads after its action: the tool's evidence, or why there is none."""
    if action is None:
        return ("Invalid format: write 'Action: tool[input]' with one of the tools, "
                "or 'Final Answer: ...' when you know the answer.")
    name, value = action
    tool = toolkit.get(name) or next((t for t in toolkit if t.name.lower() == name.lower()), None)
    if tool is None:
        hint = toolkit.suggest(name)
        return (f"{name} is not a tool" + (f" (did you mean {hint}?)" if hint else "")
                + f"; the tools are: {', '.join(toolkit.names)}. Please try again with one of them.")
    if tool.single_input is None:
        return f"{tool.name} needs several arguments, which this baseline cannot give; use another tool."
    evidence = call_tool(tool, {tool.single_input: value}, context=context)
    text = " ".join(evidence.text().split())
    return text if len(text) <= OBSERVATION_CHARS else text[:OBSERVATION_CHARS] + " ..."


def _usage(reasoner: MeteredLLM, tools_llm: MeteredLLM) -> dict[str, Usage]:
    return {"react": reasoner.usage, "tools": tools_llm.usage}
