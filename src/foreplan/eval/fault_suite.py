"""The fault suite's world: tools that go wrong the way real ones do, once, and tasks
whose answers need them, so that a replan has something to recover.

    transient   exchange_rate fails on its first call for a currency (HTTP 503)
    empty       search_notes finds only notes holding every word of the query: the
                task's own phrasing finds nothing, fewer or other words do
    timeout     shipping_days does not answer its first call within its timeout

Each run gets a fresh world (``make_world``), so "the first call" means the first in
that run.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from foreplan.errors import ToolError
from foreplan.tools.calculator import calculator
from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit

#: Units of each currency per US dollar.
RATES = {"EUR": 0.8, "GBP": 0.5, "JPY": 150.0, "CHF": 0.9}

#: Days a parcel takes from the warehouse.
SHIPPING = {"lyon": 3, "porto": 5, "oslo": 4, "graz": 2}

NOTES = (
    "Budget review for Q3 is held in room 4B on Tuesday.",
    "The offsite venue is the Lakeside Lodge; buses leave at 8:15.",
    "Printer on floor 2 is fixed; toner is in cabinet C7.",
    "New hires start on the 12th; their badges are at the front desk.",
    "The wifi password for guests is ask-reception-daily.",
    "Parking level P3 is closed for painting until Friday.",
)

TIMEOUT_S = 1.0


def make_world() -> Toolkit:
    """Fresh tools for one run."""
    calls: Counter[str] = Counter()

    @tool(timeout=5)
    def exchange_rate(currency: str) -> float:
        """Today's exchange rate: units of a currency per US dollar.

        Args:
            currency: the currency code, e.g. EUR.

        Returns:
            The rate.
        """
        code = currency.strip().upper()
        if code not in RATES:
            raise ToolError(f"unknown currency {currency!r}; known: {', '.join(RATES)}")
        calls[f"rate:{code}"] += 1
        if calls[f"rate:{code}"] == 1:
            raise ToolError("the rate service is busy (HTTP 503); try again")
        return RATES[code]

    @tool(timeout=TIMEOUT_S)
    def shipping_days(city: str) -> int:
        """How many days a parcel takes from the warehouse to a city.

        Args:
            city: the destination city.

        Returns:
            The number of days.
        """
        key = city.strip().lower()
        if key not in SHIPPING:
            raise ToolError(f"no shipping to {city!r}; cities: {', '.join(c.title() for c in SHIPPING)}")
        calls[f"ship:{key}"] += 1
        if calls[f"ship:{key}"] == 1:
            time.sleep(TIMEOUT_S * 2)  # past the timeout: the worker gives up on this call
        return SHIPPING[key]

    @tool(timeout=5)
    def search_notes(query: str) -> list:
        """Search the team's notes: the notes that contain every word of the query.

        Args:
            query: words to look for.

        Returns:
            The matching notes (a list, empty when none matches).
        """
        words = [w.strip(".,?!'\"").lower() for w in query.split()]
        return [n for n in NOTES if all(w in n.lower() for w in words if w)]

    return Toolkit([calculator, exchange_rate, shipping_days, search_notes])


@dataclass(frozen=True)
class Task:
    id: str
    fault: str
    instruction: str
    expected: float | str


TASKS = (
    Task("rate-eur", "transient", "Convert 250 US dollars to euros at today's exchange rate.", 200),
    Task("rate-gbp", "transient", "How many British pounds do I get for 90 US dollars at today's exchange rate?", 45),
    Task("rate-jpy", "transient", "Convert 12 US dollars to Japanese yen at today's exchange rate.", 1800),
    Task("rate-chf", "transient", "What are 400 US dollars in Swiss francs at today's exchange rate?", 360),
    Task("notes-room", "empty", "In which room is the quarterly Q3 budget review meeting held, according to our notes?", "4B"),
    Task("notes-toner", "empty", "Where can I find printer toner cartridges, according to the team notes?", "C7"),
    Task("notes-bus", "empty", "When do the buses to the company offsite venue leave, according to the notes?", "8:15"),
    Task("notes-badge", "empty", "Where do new hires pick up their ID badges, according to the notes?", "front desk"),
    Task("ship-lyon", "timeout", "How many days does a parcel take to reach Lyon? Double it for the round trip.", 6),
    Task("ship-porto", "timeout", "How many days does shipping to Porto take, plus 2 days of packing?", 7),
    Task("ship-oslo", "timeout", "How many days does a parcel need to get to Oslo?", 4),
    Task("ship-graz", "timeout", "A parcel goes to Graz and then comes back the same way. How many days in all?", 4),
)
