"""Toolkits, their planner lines, and users' tools files (--tools PATH)."""

from __future__ import annotations

import pytest

from foreplan.errors import ConfigError, ToolsFileError
from foreplan.tools import default_toolkit, load_tools_file
from foreplan.tools.toolkit import Toolkit

GOOD = '''
from foreplan import tool

@tool
def shout(text: str) -> str:
    """Make text loud.

    Args:
        text: The text.
    """
    return text.upper()

@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b

def helper(x):  # not a tool
    return x
'''


def test_default_toolkit_describes_its_tools_for_the_planner():
    tk = default_toolkit()
    assert tk.names == ["LLM", "calculator", "get_current_time"]
    lines = tk.describe()
    assert lines[0].startswith("LLM[input]: A pretrained language model")
    assert "days_left_in_year" in lines[2]  # result fields are shown, so plans can use #E1.field


def test_multi_argument_tools_list_their_arguments(tmp_path):
    tools = {t.name: t for t in load_tools_file(_write(GOOD, tmp_path))}
    line = Toolkit([tools["add"]]).describe()[0]
    assert line == "add[input]: Add two numbers. Input describes the arguments: a (int): First; b (int): Second."


def test_suggest_finds_the_closest_name():
    tk = default_toolkit()
    assert tk.suggest("llm") == "LLM"
    assert tk.suggest("calculater") == "calculator"
    assert tk.suggest("zzz") is None


def test_duplicate_names_are_refused():
    tk = default_toolkit()
    with pytest.raises(ConfigError, match="two tools are named 'calculator'"):
        tk.add(tk.get("calculator"))


def test_tools_file_loads_every_decorated_function(tmp_path):
    tools = load_tools_file(_write(GOOD, tmp_path))
    assert sorted(t.name for t in tools) == ["add", "shout"]
    assert {t.name: t for t in tools}["shout"](text="hi") == "HI"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def broken(:\n", r"importing .* failed \(line 1\): SyntaxError"),
        ("x = 1\nraise RuntimeError('boom')\n", r"failed \(line 2\): RuntimeError: boom"),
        ("import not_a_module_xyz\n", "ModuleNotFoundError"),
        ("import sys\nsys.exit(3)\n", "SystemExit"),
        ("x = 1\n", "defines no tools"),
        ("from foreplan import tool\n@tool\ndef f(a):\n    '''Doc.'''\n", "needs a type hint"),
    ],
)
def test_broken_tools_files_give_clear_errors(tmp_path, source, message):
    with pytest.raises(ToolsFileError, match=message):
        load_tools_file(_write(source, tmp_path))


def test_missing_and_non_python_files(tmp_path):
    with pytest.raises(ToolsFileError, match="does not exist"):
        load_tools_file(tmp_path / "nope.py")
    other = tmp_path / "tools.txt"
    other.write_text("x")
    with pytest.raises(ToolsFileError, match="not a Python file"):
        load_tools_file(other)


def _write(source: str, folder):
    path = folder / "my_tools.py"
    path.write_text(source)
    return path


def test_names_a_plan_cannot_hold_are_refused():
    from foreplan.tools.tool import tool

    @tool(name="web search")
    def web_search(query: str) -> str:
        """Search.

        Args:
            query: What.
        """
        return query

    with pytest.raises(ConfigError, match="cannot appear in a plan"):
        Toolkit([web_search])


def test_a_one_input_tool_says_what_its_input_is_unless_its_description_does(tmp_path):
    source = '''
from foreplan import tool

@tool
def fetch_page(url: str) -> dict:
    """Fetch a web page.

    Args:
        url: the page's address.

    Returns:
        title, text.
    """
    return {}

@tool
def read_inbox(folder: str = "inbox") -> dict:
    """Read the newest message in a mail folder.

    Args:
        folder: the mail folder, e.g. inbox.
    """
    return {}

@tool
def echo(text: str) -> str:
    """Repeat the input unchanged.

    Args:
        text: anything.
    """
    return text
'''
    lines = Toolkit(load_tools_file(_write(source, tmp_path))).describe()
    assert lines == [
        "fetch_page[input]: Fetch a web page. Input: url (str): the page's address. Returns: title, text.",
        "read_inbox[input]: Read the newest message in a mail folder. Input (optional): folder (str): the mail folder, e.g. inbox.",
        "echo[input]: Repeat the input unchanged.",
    ]
