"""Tools that are not in the default toolkit, so the planner learns to use what it is shown.

Each is a real :class:`~foreplan.tools.tool.Tool` (typed parameters, Google docstring),
so the toolkit's prompt lines, JSON schemas, plan grammar and validator treat them like
any user's tool. Their bodies answer offline and deterministically (a hash of the
input picks the numbers), so synthesized plans can be executed by the real worker and
an evaluation that runs a plan always sees the same evidence. They simulate services;
they never reach one.

``HELDOUT_TOOLS`` never appear in training data, not even as distractors: the held-out
task file measures whether a tuned planner uses tools it has never seen.
"""

from __future__ import annotations

import hashlib
import re

from foreplan.errors import ToolError
from foreplan.synth.entities import CITIES, COMPANIES, CURRENCIES, CUSTOMERS, FLIGHTS
from foreplan.tools.tool import Tool, tool

_CONDITIONS = ("sunny", "cloudy", "light rain", "overcast", "clear", "windy", "snow showers", "thunderstorms")
_STATUSES = ("on time", "delayed", "boarding", "departed", "landed")


def _pick(text: str, salt: str, low: int, high: int) -> int:
    """A number in [low, high] that depends only on ``text`` (case and spaces ignored)."""
    key = f"{salt}:{' '.join(text.lower().split())}".encode()
    return low + int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % (high - low + 1)


def _need(text: str, what: str) -> str:
    text = text.strip().strip("'\"")
    if not text:
        raise ToolError(f"the {what} is empty; give one, e.g. Paris")
    return text


@tool(timeout=5)
def get_weather(city: str) -> dict:
    """Current weather in a city.

    Args:
        city: City name, e.g. Paris

    Returns:
        city, temperature_c, condition, humidity_pct, wind_kmh.
    """
    city = _need(city, "city")
    return {"city": city, "temperature_c": _pick(city, "t", -5, 34), "condition": _CONDITIONS[_pick(city, "c", 0, 7)],
            "humidity_pct": _pick(city, "h", 20, 95), "wind_kmh": _pick(city, "w", 0, 60)}


@tool(timeout=5)
def convert_currency(amount: float, source: str, target: str) -> dict:
    """Convert an amount of money between currencies at today's rate.

    Args:
        amount: How much money
        source: ISO code of its currency, e.g. USD
        target: ISO code to convert to, e.g. EUR

    Returns:
        amount, source, target, rate, converted.
    """
    codes = [source.strip().upper(), target.strip().upper()]
    for code in codes:
        if code not in CURRENCIES:
            raise ToolError(f"unknown currency {code!r}; known: {', '.join(CURRENCIES)}")
    rate = round(CURRENCIES[codes[1]] / CURRENCIES[codes[0]], 4)
    return {"amount": amount, "source": codes[0], "target": codes[1], "rate": rate,
            "converted": round(amount * rate, 2)}


@tool(timeout=5)
def search_arxiv(query: str, max_results: int = 3) -> list:
    """Search arXiv for research papers.

    Args:
        query: Topic or keywords
        max_results: How many papers, 1 to 10

    Returns:
        A list of {title, first_author, year, arxiv_id}, best first.
    """
    query = _need(query, "query")
    if not 1 <= max_results <= 10:
        raise ToolError("max_results must be between 1 and 10")
    kinds = ("A Survey of", "Efficient", "Scaling", "Revisiting", "Understanding", "Benchmarking")
    authors = ("Wang", "Smith", "Garcia", "Kim", "Müller", "Rossi", "Nguyen", "Patel")
    return [{"title": f"{kinds[_pick(query, f'k{i}', 0, 5)]} {query.title()}",
             "first_author": authors[_pick(query, f'a{i}', 0, 7)], "year": _pick(query, f"y{i}", 2018, 2025),
             "arxiv_id": f"{_pick(query, f'm{i}', 18, 25)}{_pick(query, f'n{i}', 1, 12):02d}.{_pick(query, f'i{i}', 1000, 9999)}"}
            for i in range(max_results)]


@tool(timeout=5)
def lookup_stock_price(ticker: str) -> dict:
    """Latest stock price for a ticker symbol.

    Args:
        ticker: Ticker symbol, e.g. AAPL

    Returns:
        ticker, company, price, currency, change_pct.
    """
    ticker = _need(ticker, "ticker").upper()
    names = {t: c for c, t in COMPANIES} | {c.upper(): c for c, _ in COMPANIES}
    if not re.fullmatch(r"[A-Z][A-Z.\-]{0,5}", ticker) and ticker not in names:
        raise ToolError(f"{ticker!r} is not a ticker symbol; use one like AAPL or MSFT")
    symbol = next((t for c, t in COMPANIES if c.upper() == ticker), ticker)
    return {"ticker": symbol, "company": names.get(symbol, symbol), "price": _pick(symbol, "p", 2000, 90000) / 100,
            "currency": "USD", "change_pct": (_pick(symbol, "d", 0, 800) - 400) / 100}


@tool(timeout=5)
def translate(text: str, target_language: str) -> dict:
    """Translate text into another language.

    Args:
        text: The text to translate
        target_language: Language name, e.g. French

    Returns:
        language, translation.
    """
    text, language = _need(text, "text"), _need(target_language, "target language")
    return {"language": language, "translation": f"[{language[:2].lower()}] {text}"}


@tool(timeout=5, side_effects=True, sensitive=("to",))
def send_email(to: str, subject: str, body: str) -> dict:
    """Send an email.

    Args:
        to: Recipient address
        subject: Subject line
        body: Message text

    Returns:
        status, message_id.
    """
    if "@" not in to:
        raise ToolError(f"{to!r} is not an email address")
    return {"status": "sent", "message_id": f"msg-{_pick(to + subject + body, 'e', 10000, 99999)}"}


@tool(timeout=5)
def get_flight_status(flight: str) -> dict:
    """Live status of a flight.

    Args:
        flight: Flight number, e.g. LH400

    Returns:
        flight, status, origin, destination, delay_minutes, gate.
    """
    flight = _need(flight, "flight number").upper().replace(" ", "")
    if not re.fullmatch(r"[A-Z0-9]{2}\d{1,4}", flight):
        raise ToolError(f"{flight!r} is not a flight number; use one like LH400")
    known = {f: (a, b) for f, a, b in FLIGHTS}
    origin, destination = known.get(flight, ("FRA", "LHR"))
    status = _STATUSES[_pick(flight, "s", 0, 4)]
    return {"flight": flight, "status": status, "origin": origin, "destination": destination,
            "delay_minutes": _pick(flight, "d", 5, 180) if status == "delayed" else 0,
            "gate": f"{'ABCD'[_pick(flight, 'g', 0, 3)]}{_pick(flight, 'n', 1, 40)}"}


@tool(timeout=5)
def query_crm(customer: str) -> dict:
    """Look up a customer in the CRM.

    Args:
        customer: Customer name

    Returns:
        name, company, email, lifetime_value_usd, open_tickets.
    """
    name = _need(customer, "customer name")
    company = dict(CUSTOMERS).get(name.title(), "Unknown Ltd")
    return {"name": name.title(), "company": company, "email": f"{'.'.join(name.lower().split())}@example.com",
            "lifetime_value_usd": _pick(name, "v", 1000, 250000), "open_tickets": _pick(name, "o", 0, 6)}


@tool(timeout=5)
def get_population(place: str) -> dict:
    """Population of a city or country.

    Args:
        place: City or country name

    Returns:
        place, population, year.
    """
    place = _need(place, "place")
    millions = {c.lower(): m for c, _, m in CITIES}.get(place.lower())
    population = int(millions * 1_000_000) if millions else _pick(place, "p", 50_000, 9_000_000)
    return {"place": place, "population": population, "year": 2023}


@tool(timeout=5)
def search_news(query: str) -> list:
    """Search recent news articles.

    Args:
        query: Keywords

    Returns:
        A list of {headline, source, date}, newest first.
    """
    query = _need(query, "query")
    sources = ("Reuters", "AP", "BBC", "Le Monde", "NHK", "Der Spiegel")
    return [{"headline": f"{query.capitalize()}: {('new figures', 'what changed', 'experts react')[i]}",
             "source": sources[_pick(query, f"s{i}", 0, 5)], "date": f"2026-11-{_pick(query, f'd{i}', 10, 28)}"}
            for i in range(3)]


@tool(timeout=5)
def lookup_recipe(dish: str) -> dict:
    """A recipe for a dish.

    Args:
        dish: Name of the dish

    Returns:
        dish, ingredients, minutes, servings.
    """
    dish = _need(dish, "dish")
    pantry = ("onion", "garlic", "olive oil", "tomatoes", "rice", "eggs", "flour", "lemon", "chili", "butter")
    return {"dish": dish, "ingredients": sorted({pantry[_pick(dish, f"i{i}", 0, 9)] for i in range(5)}),
            "minutes": _pick(dish, "m", 10, 120), "servings": _pick(dish, "s", 2, 6)}


@tool(timeout=5)
def get_distance(origin: str, destination: str) -> dict:
    """Road distance and driving time between two places.

    Args:
        origin: Start city
        destination: End city

    Returns:
        km, hours_by_car.
    """
    origin, destination = _need(origin, "origin"), _need(destination, "destination")
    pair = " ".join(sorted([origin.lower(), destination.lower()]))
    km = _pick(pair, "km", 40, 3000)
    return {"km": km, "hours_by_car": round(km / 85, 1)}


@tool(timeout=5, side_effects=True)
def create_calendar_event(title: str, date: str) -> dict:
    """Add an event to the user's calendar.

    Args:
        title: What the event is
        date: Day, as YYYY-MM-DD

    Returns:
        event_id, title, date.
    """
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()):
        raise ToolError(f"{date!r} is not a date; write YYYY-MM-DD")
    return {"event_id": f"evt-{_pick(title + date, 'e', 1000, 9999)}", "title": title, "date": date.strip()}


@tool(timeout=5)
def lookup_definition(word: str) -> dict:
    """Dictionary definition of an English word.

    Args:
        word: The word

    Returns:
        word, part_of_speech, definition.
    """
    word = _need(word, "word").lower()
    kinds = ("noun", "adjective", "verb")
    return {"word": word, "part_of_speech": kinds[_pick(word, "k", 0, 2)],
            "definition": f"a sense of {word} as used in everyday English"}


SYNTH_TOOLS: tuple[Tool, ...] = (
    get_weather, convert_currency, search_arxiv, lookup_stock_price, translate, send_email, get_flight_status,
    query_crm, get_population, search_news, lookup_recipe, get_distance, create_calendar_event, lookup_definition,
)
#: Kept out of training entirely; only the held-out task file uses them.
HELDOUT_TOOLS = frozenset({"get_flight_status", "lookup_recipe", "get_distance"})
