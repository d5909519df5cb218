"""Fixtures shared by the plan tests: a small toolkit of typed tools, and (for the
grammar tests only) the embedded Qwen 0.5B's vocabulary.

The tools never run here; the parser, validator and grammar only read their names
and schemas, so their bodies are trivial.
"""

from __future__ import annotations

from typing import Any

import pytest

from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit


@tool
def search_wiki(query: str) -> str:
    """Search Wikipedia and return the first paragraph of the best page.

    Args:
        query: what to look up.
    """
    return query


@tool
def query_sql(sql: str) -> dict:
    """Run one SQL query on the film database.

    Args:
        sql: a SELECT statement.

    Returns:
        rows: a list of records, one dict per row.
    """
    return {"rows": []}


@tool
def top_films(count: int) -> list:
    """The highest rated films.

    Args:
        count: how many films to list.
    """
    return []


@tool
def convert_currency(amount: float, currency: str, target: str = "EUR") -> float:
    """Convert an amount of money.

    Args:
        amount: how much.
        currency: ISO code of the amount's currency.
        target: ISO code to convert to.
    """
    return amount


@pytest.fixture
def toolkit() -> Toolkit:
    """Four tools: two text inputs, one int input, one that takes several arguments."""
    return Toolkit([search_wiki, query_sql, top_films, convert_currency])


@pytest.fixture(scope="session")
def llama() -> Any:
    """The embedded Qwen2.5-Coder-0.5B with its vocabulary only (loads in under a second)."""
    import llama_cpp

    from foreplan.llm.registry import get_model, pull

    return llama_cpp.Llama(str(pull(get_model("qwen2.5-coder-0.5b"))), vocab_only=True, verbose=False)


@pytest.fixture(scope="session")
def text_toolkit() -> Toolkit:
    """Two tools that take any text, so that any input fits them (session-scoped for
    hypothesis tests; nothing adds to it)."""
    return Toolkit([search_wiki, query_sql])
