"""LLM backends behind one protocol (:class:`foreplan.llm.base.LLM`)."""

from foreplan.llm.base import LLM, Constraint, GenerationOptions, Message
from foreplan.llm.scripted import ScriptedLLM

__all__ = ["LLM", "Constraint", "GenerationOptions", "Message", "ScriptedLLM"]
