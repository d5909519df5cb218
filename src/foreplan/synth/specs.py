"""How to ask for one lookup with each tool: the slot filler, the wordings, the fields.

A :class:`Lookup` says everything the task shapes need to build tasks around one
single-input tool: where its argument comes from, how people ask for it, which numeric
field a calculator step can use, and a one-line summary of its result that a later step
(save, email, translate) can carry by reference. ``{x}`` is the entity as people say it,
``{arg}`` the tool's input, ``{e}`` the step's evidence (``#E1``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from foreplan.synth.entities import (
    CITIES, COMPANIES, CUSTOMERS, DISHES, FILMS, FLIGHTS, NEWS_TOPICS, RESEARCH_TOPICS, WORDS,
)  # fmt: skip

Pick = Callable[[random.Random], tuple[str, str]]


@dataclass(frozen=True)
class Lookup:
    tool: str
    pick: Pick
    """(entity as said, tool input)"""
    asks: tuple[str, ...]
    plan: str
    field: str | None = None
    """Numeric field path for calculator steps (``price``, ``rows[0].Year``)."""
    quantity: str | None = None
    """The field as a noun phrase, for comparisons: ``the share price of {x}``."""
    computes: tuple[tuple[str, str, str], ...] = ()
    """(task, calculator expression, plan); ``{n}`` is a number chosen per task."""
    summary: str | None = None
    """A line built from JSON-safe fields of the result, for save/email/translate steps."""
    advice: tuple[tuple[str, str], ...] = ()
    """(task, LLM instruction) for a reasoning step over the whole result."""


def _city(rng: random.Random) -> tuple[str, str]:
    city = rng.choice(CITIES)[0]
    return city, city


def _zone(rng: random.Random) -> tuple[str, str]:
    city, zone, _ = rng.choice(CITIES)
    return city, zone


def _company(rng: random.Random) -> tuple[str, str]:
    return rng.choice(COMPANIES)


def _from(values: tuple) -> Pick:
    def pick(rng: random.Random) -> tuple[str, str]:
        value = rng.choice(values)
        value = value[0] if isinstance(value, tuple) else value
        return value, value

    return pick


def _film_sql(column: str) -> Pick:
    def pick(rng: random.Random) -> tuple[str, str]:
        title = rng.choice(FILMS)[0]
        return title, f"SELECT {column} FROM omdb WHERE Title = '{title}'"

    return pick


LOOKUPS: tuple[Lookup, ...] = (
    Lookup("get_weather", _city,
           ("What is the weather like in {x} right now?", "Is it raining in {x} today?",
            "How warm is it in {x} at the moment?", "Check the current weather in {x}."),
           "Get the current weather in {x}.", "temperature_c", "the temperature in {x}",
           (("What is the temperature in {x} in Fahrenheit?", "{e}.temperature_c * 9 / 5 + 32",
             "Convert the temperature from Celsius to Fahrenheit."),
            ("How many degrees below 35 C is it in {x} right now?", "35 - {e}.temperature_c",
             "Subtract the temperature from 35.")),
           "Weather in {x}: {e}.condition, {e}.temperature_c C, humidity {e}.humidity_pct percent",
           (("Check the weather in {x} and tell me what to wear.",
             "Suggest what to wear in {x} given this weather: {e}"),
            ("Should I plan a picnic in {x} today? Check the weather first.",
             "Given this weather in {x}, is today good for a picnic? Weather: {e}"))),
    Lookup("get_current_time", _zone,
           ("What time is it in {x}?", "What day of the week is it in {x} right now?",
            "What is today's date in {x}?", "Tell me the local time in {x}."),
           "Get the current date and time in {arg}.", "days_left_in_year", None,
           (("How many hours are left in this year in {x}?", "{e}.days_left_in_year * 24",
             "Turn the days left into hours."),
            ("How many full weeks are left in this year in {x}?", "floor({e}.days_left_in_year / 7)",
             "Divide the days left by 7 and round down.")),
           "Local time in {x}: {e}.weekday {e}.date {e}.time",
           (("Is it a working day in {x} today?", "Is this a working day? Answer yes or no with the weekday: {e}"),)),
    Lookup("get_population", _city,
           ("How many people live in {x}?", "What is the population of {x}?", "Find the population of {x}."),
           "Look up the population of {x}.", "population", "the population of {x}",
           (("How many million people live in {x}?", "round({e}.population / 1000000, 1)",
             "Express the population in millions."),
            ("If {n} percent of the people in {x} ride a bike, how many is that?", "{e}.population * {n} / 100",
             "Take {n} percent of the population.")),
           "{x} has {e}.population inhabitants ({e}.year)"),
    Lookup("lookup_stock_price", _company,
           ("What is the stock price of {x} today?", "How is {x} stock ({arg}) doing today?",
            "Get the latest share price of {x}."),
           "Look up the latest share price of {x} (ticker {arg}).", "price", "the share price of {x}",
           (("How much would {n} shares of {x} cost?", "{e}.price * {n}", "Multiply the share price by {n}."),
            ("I own {n} shares of {x}. What are they worth now?", "{e}.price * {n}",
             "Multiply the price by the {n} shares.")),
           "{x} ({arg}) trades at {e}.price USD, {e}.change_pct percent today",
           (("Look up {x} stock and tell me in one sentence whether it went up or down today.",
             "Say in one sentence whether {x} stock went up or down today: {e}"),)),
    Lookup("query_crm", _from(CUSTOMERS),
           ("Find {x} in the CRM.", "Which company does our customer {x} work for?",
            "How many open tickets does {x} have?"),
           "Look up {x} in the CRM.", "lifetime_value_usd", "the lifetime value of customer {x}",
           (("What is {n} percent of the lifetime value of {x}?", "{e}.lifetime_value_usd * {n} / 100",
             "Take {n} percent of the lifetime value."),),
           "{x} of {e}.company has {e}.open_tickets open tickets",
           (("Look up {x} in the CRM and draft a short follow-up note.",
             "Draft a short, friendly follow-up note for this customer: {e}"),)),
    Lookup("get_flight_status", _from(FLIGHTS),
           ("Is flight {x} on time?", "What is the status of flight {x}?", "Which gate does {x} leave from?"),
           "Get the live status of flight {x}.", "delay_minutes", "the delay of flight {x}",
           (("How many hours is flight {x} delayed?", "{e}.delay_minutes / 60", "Turn the delay into hours."),),
           "Flight {x}: {e}.status, gate {e}.gate, delay {e}.delay_minutes min",
           (("Check flight {x} and tell me if I can still make a 2 hour connection.",
             "With a 2 hour connection, can the traveller make it? Flight status: {e}"),)),
    Lookup("lookup_recipe", _from(DISHES),
           ("How do I make {x}?", "Find me a recipe for {x}.", "What do I need to cook {x}?"),
           "Look up a recipe for {x}.", "minutes", "the cooking time of {x}",
           (("How long does it take to cook {x} {n} times in a row?", "{e}.minutes * {n}",
             "Multiply the cooking time by {n}."),
            ("How many servings do {n} batches of {x} make?", "{e}.servings * {n}", "Multiply the servings by {n}.")),
           "{x}: {e}.minutes minutes, serves {e}.servings",
           (("Find a recipe for {x} and tell me if it is vegetarian.",
             "Is this recipe vegetarian? Answer yes or no with a reason: {e}"),)),
    Lookup("search_arxiv", _from(RESEARCH_TOPICS),
           ("Find recent papers on {x}.", "What has been published on arXiv about {x}?",
            "Search arXiv for work on {x}."),
           "Search arXiv for papers on {x}.", summary="Top paper on {x}: {e}[0].title by {e}[0].first_author",
           advice=(("Find papers on {x} and tell me which one to read first.",
                    "Which of these papers on {x} should a beginner read first? {e}"),)),
    Lookup("search_news", _from(NEWS_TOPICS),
           ("What is the latest news about {x}?", "Find news about {x}.", "Any headlines on {x} today?"),
           "Search the news for {x}.", summary="Latest on {x}: {e}[0].headline ({e}[0].source)",
           advice=(("Summarize today's news about {x} in two sentences.",
                    "Summarize these headlines about {x} in two sentences: {e}"),)),
    Lookup("lookup_definition", _from(WORDS),
           ("What does {x} mean?", "Define the word {x}.", "Look up the meaning of {x}."),
           "Look up the definition of {x}.", summary="{x} ({e}.part_of_speech): {e}.definition",
           advice=(("Define {x} and use it in an example sentence.", "Write one example sentence using {x}: {e}"),)),
    Lookup("search_wiki", lambda rng: (t := rng.choice(FILMS)[0], f"{t} film"),
           ("Find an encyclopedia article about the film {x}.", "Who directed {x}? Search the encyclopedia.",
            "What is the film {x} about?"),
           "Search the encyclopedia for the film {x}.",
           advice=(("Who directed {x}? Answer with the name only.", "Who directed {x}? Reply with the name only. {e}"),)),
    Lookup("query_sql", _film_sql("Year"),
           ("In which year was {x} released?", "When did {x} come out?", "Find the release year of {x}."),
           "Query the film database for the release year of {x}.", "rows[0].Year", "the release year of {x}",
           (("How many years before 2025 was {x} released?", "2025 - {e}.rows[0].Year",
             "Subtract the release year from 2025."),),
           "{x} was released in {e}.rows[0].Year"),
    Lookup("query_sql", _film_sql("Runtime"),
           ("How long is {x}?", "What is the runtime of {x} in minutes?"),
           "Query the film database for the runtime of {x}.", "rows[0].Runtime", "the runtime of {x}",
           (("How many hours long is {x}?", "round({e}.rows[0].Runtime / 60, 2)", "Turn the minutes into hours."),
            ("How many minutes do {n} back-to-back screenings of {x} take?", "{e}.rows[0].Runtime * {n}",
             "Multiply the runtime by {n}.")),
           "{x} runs {e}.rows[0].Runtime minutes"),
)  # fmt: skip
