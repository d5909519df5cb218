"""Worked examples for the planner prompt; the first whose tools are all in the
toolkit is shown (an example that names a missing tool teaches the model to invent)."""

from __future__ import annotations

EXAMPLES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"get_current_time", "calculator", "LLM"}),
        """Task: What date is it in Tokyo, and about how many hours are left in this year there?
Plan: Get the current date and time in Tokyo, with the days left in the year.
#E1 = get_current_time[Asia/Tokyo]
Plan: Turn the days left into hours.
#E2 = calculator[#E1.days_left_in_year * 24]""",
    ),
    *(
        (
            frozenset({search, "LLM"}),
            f"""Task: In what year was the director of the film 'Jaws' born?
Plan: Search for the film to find its director.
#E1 = {search}[Jaws film]
Plan: Name the director from what the search found.
#E2 = LLM[Who directed the film Jaws? Reply with the name only. Context: #E1]
Plan: Search for the director.
#E3 = {search}[#E2]
Plan: Find the director's year of birth in what the search found.
#E4 = LLM[In what year was #E2 born? Reply with the year only. Context: #E3]""",
        )
        for search in ("search_wiki", "search_web")
    ),
    (
        frozenset({"calculator", "LLM"}),
        """Task: Thomas, Toby, and Rebecca worked a total of 157 hours in one week. Thomas worked x hours. Toby worked 10 hours less than twice what Thomas worked, and Rebecca worked 8 hours less than Toby. How many hours did Rebecca work?
Plan: Translate the problem into an equation for x and solve it.
#E1 = LLM[Solve x + (2x - 10) + ((2x - 10) - 8) = 157 for x. Reply with the number only.]
Plan: Calculate the number of hours Rebecca worked.
#E2 = calculator[(2 * #E1 - 10) - 8]""",
    ),
    (
        frozenset({"LLM"}),
        """Task: Name a fruit that is yellow, then say which country grows the most of it.
Plan: Name a yellow fruit.
#E1 = LLM[Name one yellow fruit. Reply with its name only.]
Plan: Find the country that grows the most of that fruit.
#E2 = LLM[Which country grows the most #E1?]""",
    ),
)


def pick_example(tool_names: set[str]) -> str | None:
    """The first example that uses only ``tool_names``."""
    for needed, text in EXAMPLES:
        if needed <= tool_names:
            return text
    return None
