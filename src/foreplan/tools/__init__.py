"""Tools: typed functions the planner can name, and the toolkit that holds them."""

from foreplan.tools.calculator import calculator
from foreplan.tools.clock import get_current_time
from foreplan.tools.llm_tool import llm_tool
from foreplan.tools.tool import Tool, tool
from foreplan.tools.toolkit import Toolkit, load_tools_file

BUILTIN_TOOLS = (llm_tool, calculator, get_current_time)


def default_toolkit() -> Toolkit:
    """``LLM``, ``calculator`` and ``get_current_time``."""
    return Toolkit(BUILTIN_TOOLS)


__all__ = ["BUILTIN_TOOLS", "Tool", "Toolkit", "default_toolkit", "load_tools_file", "tool"]
