"""foreplan: plan every step up front (ReWOO), call tools in parallel, solve from the evidence.

    from foreplan import Agent, default_toolkit, resolve_model
    agent = Agent(resolve_model("qwen2.5-coder-1.5b"), default_toolkit())
    print(agent.run("How many days are left this year, squared?").answer)
"""

from foreplan.agent import Agent, RunResult
from foreplan.errors import ForeplanError, ToolError
from foreplan.llm.resolve import resolve_model
from foreplan.llm.scripted import ScriptedLLM
from foreplan.tools import Tool, Toolkit, default_toolkit, tool
from foreplan.types import Evidence, Plan, Status, Step

__version__ = "0.1.0"

__all__ = [
    "Agent", "Evidence", "ForeplanError", "Plan", "RunResult", "ScriptedLLM", "Status", "Step",
    "Tool", "ToolError", "Toolkit", "default_toolkit", "resolve_model", "tool",
]
