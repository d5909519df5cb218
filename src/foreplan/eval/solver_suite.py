"""The solver suite's world: deterministic tools the models never saw, and 150 tasks with
their expected values, so that an answer can be scored against what the evidence held.

Five kinds, 150 tasks, drawn once from a fixed seed (the same list on every machine):

    arithmetic    40  chains on the calculator: "What is 37 times 41? Then subtract 517."
    conversion    30  currencies and units at fixed rates (two- and three-argument tools)
    lookup        30  prices in a small catalogue: totals, the dearer of two, differences
    string        25  reversing, upper-casing, counting letters and words
    chain         25  one tool's output is another's argument: a price or a salary in
                      another currency, a salary plus a bonus, days between two dates

The evidence holds a task's answer when it states the expected value; for a task that
picks one of several values (the dearer of two prices), when it states them all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from foreplan.errors import ToolError
from foreplan.tools.calculator import calculator
from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit

#: Units of each currency per US dollar (fixed: the suite must not depend on the day).
RATES = {"USD": 1.0, "EUR": 0.8, "GBP": 0.5, "JPY": 150.0, "CHF": 0.9, "CAD": 1.25}

#: Each unit in its base unit (metre, kilogram, litre).
UNITS = {"km": ("m", 1000.0), "mi": ("m", 1609.344), "m": ("m", 1.0), "ft": ("m", 0.3048),
         "kg": ("kg", 1.0), "lb": ("kg", 0.45359237), "g": ("kg", 0.001),
         "l": ("l", 1.0), "gal": ("l", 3.785411784)}

#: The shop's catalogue, in US dollars.
CATALOGUE = {"lamp": 34.5, "chair": 89.0, "desk": 249.0, "kettle": 27.25, "mug": 8.75, "notebook": 4.5,
             "backpack": 59.9, "umbrella": 18.0, "clock": 42.0, "blender": 76.4, "pillow": 22.5, "toaster": 31.8}

#: The staff list: department, yearly salary in US dollars, first day.
STAFF = {"Anika Sorensen": ("finance", 61200, "2017-03-01"), "Tomas Reyes": ("sales", 48750, "2019-09-16"),
         "Mei Lindqvist": ("research", 83400, "2012-01-09"), "Jonah Okafor": ("support", 39900, "2021-06-01"),
         "Priya Castell": ("legal", 97150, "2015-11-23"), "Lukas Brandt": ("design", 55300, "2020-02-03")}


def _currency(code: str) -> float:
    rate = RATES.get(code.strip().upper())
    if rate is None:
        raise ToolError(f"unknown currency {code!r}; known: {', '.join(RATES)}")
    return rate


@tool(timeout=5)
def convert_currency(amount: float, source: str, target: str) -> float:
    """Convert an amount of money from one currency to another at today's fixed rates.

    Args:
        amount: how much money, a number.
        source: the currency code of the amount, e.g. USD.
        target: the currency code to convert to, e.g. EUR.

    Returns:
        The converted amount, rounded to cents.
    """
    return round(amount / _currency(source) * _currency(target), 2)


@tool(timeout=5)
def convert_units(value: float, source: str, target: str) -> float:
    """Convert a length, weight or volume between units: km, mi, m, ft, kg, lb, g, l, gal.

    Args:
        value: the quantity, a number.
        source: the unit of the value, e.g. km.
        target: the unit to convert to, e.g. mi.

    Returns:
        The converted value, rounded to 4 decimals.
    """
    (a_base, a), (b_base, b) = (UNITS.get(u.strip().lower(), ("?", 0.0)) for u in (source, target))
    if not a or not b or a_base != b_base:
        raise ToolError(f"cannot convert {source!r} to {target!r}; units: {', '.join(UNITS)}")
    return round(value * a / b, 4)


@tool(timeout=5)
def item_price(item: str) -> float:
    """The price of one item in the shop's catalogue, in US dollars.

    Args:
        item: the item's name, e.g. lamp.

    Returns:
        The price in USD.
    """
    key = item.strip().lower().removesuffix("s") if item.strip().lower() not in CATALOGUE else item.strip().lower()
    if key not in CATALOGUE:
        raise ToolError(f"no item {item!r} in the catalogue; items: {', '.join(CATALOGUE)}")
    return CATALOGUE[key]


@tool(timeout=5)
def employee_record(name: str) -> dict:
    """Look up an employee in the staff list.

    Args:
        name: the employee's full name.

    Returns:
        department, salary (yearly, in USD), start_date (YYYY-MM-DD).
    """
    for full, (department, salary, start) in STAFF.items():
        if name.strip().lower() in (full.lower(), full.split()[0].lower()):
            return {"department": department, "salary": salary, "start_date": start}
    raise ToolError(f"no employee named {name!r}")


@tool(timeout=5)
def reverse_text(text: str) -> str:
    """Reverse a text, last character first.

    Args:
        text: the text to reverse.

    Returns:
        The reversed text.
    """
    return text[::-1]


@tool(timeout=5)
def uppercase(text: str) -> str:
    """Write a text in capital letters.

    Args:
        text: the text.

    Returns:
        The text in upper case.
    """
    return text.upper()


@tool(timeout=5)
def count_letter(text: str, letter: str) -> int:
    """Count how often a letter occurs in a text, ignoring case.

    Args:
        text: the text to search.
        letter: the single letter to count.

    Returns:
        The number of occurrences.
    """
    if len(letter.strip()) != 1:
        raise ToolError(f"letter must be one character, not {letter!r}")
    return text.lower().count(letter.strip().lower())


@tool(timeout=5)
def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: the text.

    Returns:
        The number of words.
    """
    return len(text.split())


@tool(timeout=5)
def days_between(start: str, end: str) -> int:
    """The number of days from one date to another.

    Args:
        start: the first date, YYYY-MM-DD.
        end: the second date, YYYY-MM-DD.

    Returns:
        The number of days (negative when end is before start).
    """
    try:
        return (date.fromisoformat(end.strip()) - date.fromisoformat(start.strip())).days
    except ValueError as exc:
        raise ToolError(f"dates must be YYYY-MM-DD: {exc}") from exc


def make_toolkit() -> Toolkit:
    return Toolkit([calculator, convert_currency, convert_units, item_price, employee_record, reverse_text,
                    uppercase, count_letter, word_count, days_between])


Value = float | str


@dataclass(frozen=True)
class Task:
    id: str
    kind: str
    instruction: str
    expected: Value
    choice: tuple[Value, ...] = ()
    """For a task that picks one value: the values it picks from (the answer must lead
    with the right one, and the evidence must hold them all)."""


WORDS = ("lantern", "harbor", "meadow", "pebble", "thunder", "velvet", "orchard", "compass", "glacier", "saffron")
PHRASES = ("banana bandana cabana", "a salad at the lagoon", "paper pepper piper", "sassy snakes sip soda",
           "the otter took the boat", "mellow yellow marshmallow", "tiny kittens knit mittens")
SENTENCES = ("The quick brown fox jumps over the lazy dog", "Small models can plan every step up front",
             "Rain fell on the quiet town all night long", "She sold seven shells by the sea shore today",
             "Every tool call writes its evidence for the solver")


def _arithmetic(rng: random.Random) -> list[Task]:
    tasks = []
    for n in range(10):
        a, b, c = rng.randint(12, 99), rng.randint(12, 99), rng.randint(100, 999)
        tasks.append(Task(f"arith-mul-sub-{n}", "arithmetic",
                          f"What is {a} times {b}? Then subtract {c} from that result.", a * b - c))
        a, b, c = rng.randint(100, 999), rng.randint(100, 999), rng.randint(3, 12)
        tasks.append(Task(f"arith-add-mul-{n}", "arithmetic",
                          f"Add {a} and {b}, then multiply the sum by {c}.", (a + b) * c))
        b, c = rng.randint(4, 25), rng.randint(10, 500)
        a = b * rng.randint(11, 90)
        tasks.append(Task(f"arith-div-add-{n}", "arithmetic",
                          f"Divide {a} by {b}, and then add {c} to the quotient.", a // b + c))
        a, b = rng.randint(13, 60), rng.randint(50, 900)
        tasks.append(Task(f"arith-square-{n}", "arithmetic",
                          f"Compute {a} squared, then subtract {b} from it.", a * a - b))
    return tasks


def _conversion(rng: random.Random) -> list[Task]:
    tasks = []
    codes = [c for c in RATES if c != "USD"]
    for n in range(10):
        amount, target = rng.randint(20, 900), rng.choice(codes)
        tasks.append(Task(f"conv-currency-{n}", "conversion", f"Convert {amount} USD to {target}.",
                          round(amount * RATES[target], 2)))
        km = rng.randint(5, 120)
        miles = round(km * 1000.0 / 1609.344, 4)
        tasks.append(Task(f"conv-km-double-{n}", "conversion",
                          f"How many miles is {km} kilometers? Then double that distance.", round(miles * 2, 4)))
        kg, extra = rng.randint(2, 90), rng.randint(1, 20)
        pounds = round(kg / 0.45359237, 4)
        tasks.append(Task(f"conv-kg-add-{n}", "conversion",
                          f"Convert {kg} kg to pounds, then add {extra} pounds.", round(pounds + extra, 4)))
    return tasks


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _lookup(rng: random.Random) -> list[Task]:
    tasks = []
    items = list(CATALOGUE)
    for n in range(10):
        item, count = rng.choice(items), rng.randint(2, 9)
        tasks.append(Task(f"lookup-total-{n}", "lookup",
                          f"What is the total price of {count} {item}s from the shop?",
                          round(CATALOGUE[item] * count, 2)))
        x, y = rng.sample(items, 2)
        dearer = max(CATALOGUE[x], CATALOGUE[y])
        tasks.append(Task(f"lookup-dearer-{n}", "lookup",
                          f"Which costs more in the shop, {_a(x)} or {_a(y)}? Give the higher price.", dearer,
                          choice=(CATALOGUE[x], CATALOGUE[y])))
        x, y = rng.sample(items, 2)
        if CATALOGUE[x] < CATALOGUE[y]:
            x, y = y, x
        tasks.append(Task(f"lookup-difference-{n}", "lookup",
                          f"How much more does {_a(x)} cost than {_a(y)} in the shop?",
                          round(CATALOGUE[x] - CATALOGUE[y], 2)))
    return tasks


def _string(rng: random.Random) -> list[Task]:
    tasks = []
    for n in range(9):
        word = WORDS[n]
        tasks.append(Task(f"string-reverse-upper-{n}", "string",
                          f"Reverse the word '{word}' and then write the result in uppercase.", word[::-1].upper()))
    for n in range(8):
        phrase = PHRASES[n % len(PHRASES)]
        letter = rng.choice(sorted({ch for ch in phrase if ch.isalpha()}))
        tasks.append(Task(f"string-count-letter-{n}", "string",
                          f"How many times does the letter '{letter}' appear in '{phrase}'?", phrase.count(letter)))
    for n in range(8):
        sentence, times = SENTENCES[n % len(SENTENCES)], rng.randint(3, 12)
        words = len(sentence.split())
        tasks.append(Task(f"string-words-times-{n}", "string",
                          f"Count the words in the sentence '{sentence}' and multiply that count by {times}.",
                          words * times))
    return tasks


def _chain(rng: random.Random) -> list[Task]:
    tasks = []
    items, names, codes = list(CATALOGUE), list(STAFF), [c for c in RATES if c != "USD"]
    for n in range(7):
        item, target = rng.choice(items), rng.choice(codes)
        tasks.append(Task(f"chain-price-currency-{n}", "chain",
                          f"What does {_a(item)} from the shop cost in {target}?",
                          round(CATALOGUE[item] * RATES[target], 2)))
    for n in range(6):
        name, target = rng.choice(names), rng.choice(codes)
        tasks.append(Task(f"chain-salary-currency-{n}", "chain",
                          f"What is {name}'s yearly salary in {target}?", round(STAFF[name][1] * RATES[target], 2)))
    for n in range(6):
        name, bonus = rng.choice(names), rng.randint(5, 60) * 100
        tasks.append(Task(f"chain-salary-bonus-{n}", "chain",
                          f"What would {name}'s yearly salary be with a bonus of {bonus} dollars added?",
                          STAFF[name][1] + bonus))
    for n in range(6):
        first = date(rng.randint(2015, 2022), rng.randint(1, 12), rng.randint(1, 28))
        last = date(first.year + rng.randint(1, 3), rng.randint(1, 12), rng.randint(1, 28))
        times = rng.randint(2, 5)
        days = (last - first).days
        tasks.append(Task(f"chain-days-times-{n}", "chain",
                          f"How many days are there from {first.isoformat()} to {last.isoformat()}? "
                          f"Multiply that number by {times}.", days * times))
    return tasks


def make_tasks(seed: int = 16) -> list[Task]:
    """The suite's 150 tasks, the same for a given seed."""
    rng = random.Random(seed)
    return _arithmetic(rng) + _conversion(rng) + _lookup(rng) + _string(rng) + _chain(rng)
