"""Task shapes: the ways a task can need tools, each a function from a seeded RNG to a
candidate task and its reference plan.

    single       one lookup                              #E1 = tool[x]
    compute      a lookup, then arithmetic on a field    #E2 = calculator[#E1.price * 25]
    compare      two independent lookups (parallel),     #E1, #E2 = tool[a], tool[b]
                 then a calculator or LLM step           #E3 = calculator[#E1.f - #E2.f]
    advise       a lookup, then an LLM step over it      #E2 = LLM[... #E1]
    save/email/translate   a lookup, then a tool that carries a summary of it
    pair         two different tools about one city (parallel, no combining step)
    + specific shapes: SQL follow-ups, search and SQL, shares in another currency,
      emailing a CRM contact, a calendar entry for today, distances, plain arithmetic

A candidate lists its steps as (plan, tool, input); the generator renders, checks and
executes it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from foreplan.synth.entities import CITIES, COLLEAGUES, COMPANIES, CURRENCIES, CUSTOMERS, FILMS, LANGUAGES
from foreplan.synth.specs import LOOKUPS, Lookup

Steps = list[tuple[str, str, str]]


@dataclass(frozen=True)
class Candidate:
    shape: str
    task: str
    steps: Steps

    @property
    def reference_tools(self) -> list[str]:
        return [tool for _, tool, _ in self.steps]


def _fill(text: str, x: str, arg: str, e: str = "#E1", n: int | str = "") -> str:
    return text.replace("{x}", x).replace("{arg}", arg).replace("{e}", e).replace("{n}", str(n))


def _lookup(rng: random.Random, need: Callable[[Lookup], bool] = lambda s: True) -> tuple[Lookup, str, str]:
    spec = rng.choice([s for s in LOOKUPS if need(s)])
    x, arg = spec.pick(rng)
    return spec, x, arg


def _step(spec: Lookup, x: str, arg: str) -> tuple[str, str, str]:
    return _fill(spec.plan, x, arg), spec.tool, arg


def single(rng: random.Random) -> Candidate:
    spec, x, arg = _lookup(rng)
    return Candidate("single", _fill(rng.choice(spec.asks), x, arg), [_step(spec, x, arg)])


def compute(rng: random.Random) -> Candidate:
    spec, x, arg = _lookup(rng, lambda s: bool(s.computes))
    task, expr, plan = rng.choice(spec.computes)
    n = rng.choice((3, 5, 12, 25, 40, 100))
    return Candidate("compute", _fill(task, x, arg, n=n),
                     [_step(spec, x, arg), (_fill(plan, x, arg, n=n), "calculator", _fill(expr, x, arg, n=n))])


def compare(rng: random.Random) -> Candidate:
    spec = rng.choice([s for s in LOOKUPS if s.quantity])
    (xa, aa), (xb, ab) = spec.pick(rng), spec.pick(rng)
    while xb == xa:
        xb, ab = spec.pick(rng)
    qa, qb, f = _fill(spec.quantity, xa, aa), _fill(spec.quantity, xb, ab), spec.field
    kind = rng.choice(("difference", "ratio", "judge"))
    if kind == "judge":
        task = rng.choice(("Compare {a} and {b}: which is higher?", "Which is higher, {a} or {b}?"))
        last = ("Compare the two values and say which is higher.", "LLM",
                f"Which is higher, {qa} (#E1.{f}) or {qb} (#E2.{f})? Answer in one sentence.")
    else:
        task, op, plan = {
            "difference": ("How much higher is {a} than {b}?", "-", "Subtract the second value from the first."),
            "ratio": ("What is the ratio of {a} to {b}?", "/", "Divide the first value by the second."),
        }[kind]
        last = (plan, "calculator", f"#E1.{f} {op} #E2.{f}")
    task = task.replace("{a}", qa).replace("{b}", qb)
    return Candidate("compare", task[0].upper() + task[1:], [_step(spec, xa, aa), _step(spec, xb, ab), last])


def advise(rng: random.Random) -> Candidate:
    spec, x, arg = _lookup(rng, lambda s: bool(s.advice))
    task, instruction = rng.choice(spec.advice)
    return Candidate("advise", _fill(task, x, arg), [_step(spec, x, arg),
                     ("Reason over the result to answer the question.", "LLM", _fill(instruction, x, arg))])


def _carry(rng: random.Random) -> tuple[Lookup, str, str, str]:
    spec, x, arg = _lookup(rng, lambda s: s.summary is not None)
    return spec, x, arg, _fill(spec.summary, x, arg)


def save(rng: random.Random) -> Candidate:
    spec, x, arg, summary = _carry(rng)
    path = f"notes/{'_'.join(x.lower().split())[:24]}.{rng.choice(('md', 'txt'))}"
    ask = _fill(rng.choice(spec.asks), x, arg).rstrip("?.")
    task = rng.choice((f"{ask}, and save it to {path}.", f"Save a note to {path}: {ask[0].lower()}{ask[1:]}?"))
    return Candidate("save", task, [_step(spec, x, arg), (f"Save the result to {path}.", "save_file",
                     f'{{"path": "{path}", "content": "{summary}"}}')])


def email(rng: random.Random) -> Candidate:
    spec, x, arg, summary = _carry(rng)
    name = rng.choice(COLLEAGUES)
    address = f"{name.lower()}@example.com"
    ask = _fill(rng.choice(spec.asks), x, arg).rstrip("?.")
    task = f"{ask}, and email the answer to {name} ({address})."
    return Candidate("email", task, [_step(spec, x, arg), (f"Email the result to {name}.", "send_email",
                     f'{{"to": "{address}", "subject": "{x}", "body": "{summary}"}}')])


def translate(rng: random.Random) -> Candidate:
    spec, x, arg, summary = _carry(rng)
    language = rng.choice(LANGUAGES)
    ask = _fill(rng.choice(spec.asks), x, arg).rstrip("?.")
    task = f"{ask}? Give me the answer in {language}."
    return Candidate("translate", task, [_step(spec, x, arg), (f"Translate the result into {language}.", "translate",
                     f'{{"text": "{summary}", "target_language": "{language}"}}')])


def pair(rng: random.Random) -> Candidate:
    city, zone, _ = rng.choice(CITIES)
    specs = {s.tool: s for s in LOOKUPS if s.tool in ("get_weather", "get_current_time", "get_population")}
    first, second = rng.sample(sorted(specs), 2)
    args = {"get_current_time": zone}
    said = {"get_weather": ("what is the weather in {c}", "what is the weather there"),
            "get_current_time": ("what time is it in {c}", "what time is it there"),
            "get_population": ("how many people live in {c}", "how many people live there")}
    task = f"{said[first][0].format(c=city).capitalize()}, and {said[second][1]}?"
    steps = [_step(specs[t], city, args.get(t, city)) for t in (first, second)]
    return Candidate("pair", task, steps)


def director_films(rng: random.Random) -> Candidate:
    title = rng.choice(FILMS)[0]
    first = (f"Find the director of {title}.", "query_sql", f"SELECT Director FROM omdb WHERE Title = '{title}'")
    if rng.random() < 0.5:
        task = rng.choice((f"Which other films did the director of {title} make?",
                           f"List the films by the director of {title}, oldest first."))
        second = ("List that director's films in the database.", "query_sql",
                  "SELECT Title, Year FROM omdb WHERE Director = '#E1.rows[0].Director' ORDER BY Year")
    else:
        task = f"Who directed {title}, and what does the encyclopedia say about that person?"
        second = ("Search the encyclopedia for the director.", "search_wiki", "#E1.rows[0].Director")
    return Candidate("sql_followup", task, [first, second])


def search_and_sql(rng: random.Random) -> Candidate:
    title = rng.choice(FILMS)[0]
    return Candidate("search_sql", f"Read about {title} in the encyclopedia, get its runtime from the film database, "
                     "and write a two-sentence blurb.", [
        (f"Search the encyclopedia for {title}.", "search_wiki", f"{title} film"),
        (f"Query the film database for the runtime of {title}.", "query_sql",
         f"SELECT Runtime FROM omdb WHERE Title = '{title}'"),
        ("Write the blurb from both results.", "LLM", (f"Write a two-sentence blurb about {title} from #E1 "
                                                     "and its runtime of #E2.rows[0].Runtime minutes.")),
    ])  # fmt: skip


def shares_abroad(rng: random.Random) -> Candidate:
    company, ticker = rng.choice(COMPANIES)
    target = rng.choice([c for c in CURRENCIES if c != "USD"])
    first = (f"Look up the share price of {company} (ticker {ticker}).", "lookup_stock_price", ticker)
    if rng.random() < 0.5:
        return Candidate("convert", f"What does one share of {company} cost in {target}?", [first, (
            f"Convert the price from USD to {target}.", "convert_currency",
            f'{{"amount": #E1.price, "source": "USD", "target": "{target}"}}')])
    n = rng.choice((10, 25, 50, 200))
    return Candidate("convert", f"How much are {n} shares of {company} worth in {target}?", [first, (
        f"Multiply the price by {n}.", "calculator", f"#E1.price * {n}"), (
        f"Convert the total from USD to {target}.", "convert_currency",
        f'{{"amount": #E2, "source": "USD", "target": "{target}"}}')])


def money(rng: random.Random) -> Candidate:
    source, target = rng.sample(sorted(CURRENCIES), 2)
    amount = rng.choice((20, 75, 120, 250, 999, 1500))
    task = rng.choice((f"How much is {amount} {source} in {target}?", f"Convert {amount} {source} to {target}."))
    return Candidate("single", task, [(f"Convert {amount} {source} to {target}.", "convert_currency",
                     f'{{"amount": {amount}, "source": "{source}", "target": "{target}"}}')])


def crm_email(rng: random.Random) -> Candidate:
    name = rng.choice(CUSTOMERS)[0]
    topic = rng.choice(("a thank-you note for their last order", "a reminder about their open tickets",
                        "an invitation to our product webinar"))
    return Candidate("email", f"Send {name} {topic}.", [
        (f"Look up {name} in the CRM for their email address.", "query_crm", name),
        (f"Email {name}.", "send_email", (f'{{"to": "#E1.email", "subject": "Hello {name.split()[0]}", '
                                          f'"body": "Dear {name.split()[0]}, this is {topic}."}}')),
    ])  # fmt: skip


def calendar(rng: random.Random) -> Candidate:
    city, zone, _ = rng.choice(CITIES)
    title = rng.choice(("Team lunch", "Dentist", "Call with the Berlin office", "Gym", "Project review"))
    return Candidate("calendar", f"Put '{title}' in my calendar for today (I am in {city}).", [
        (f"Get today's date in {city}.", "get_current_time", zone),
        ("Add the event for that date.", "create_calendar_event", f'{{"title": "{title}", "date": "#E1.date"}}'),
    ])  # fmt: skip


def road_trip(rng: random.Random) -> Candidate:
    a, b = (c[0] for c in rng.sample(CITIES[:12], 2))
    first = (f"Get the road distance from {a} to {b}.", "get_distance", f'{{"origin": "{a}", "destination": "{b}"}}')
    kind = rng.choice(("single", "there and back", "fuel"))
    if kind == "single":
        return Candidate("single", f"How far is it to drive from {a} to {b}?", [first])
    if kind == "fuel":
        return Candidate("compute", f"How many litres of fuel does a car using 6 litres per 100 km need from {a} "
                         f"to {b}?", [first, ("Multiply the distance by 6 / 100.", "calculator", "#E1.km * 6 / 100")])
    return Candidate("compute", f"How many hours would driving from {a} to {b} and back take?",
                     [first, ("Double the driving time.", "calculator", "#E1.hours_by_car * 2")])


def arithmetic(rng: random.Random) -> Candidate:
    a, b, p = rng.randint(120, 9000), rng.randint(3, 48), rng.choice((5, 12, 15, 18, 20, 35))
    task, expr = rng.choice((
        (f"What is {p} percent of {a}?", f"{a} * {p} / 100"),
        (f"If {a} apples are shared equally among {b} people, how many does each get?", f"{a} / {b}"),
        (f"A bill of {a} is split {b} ways with a {p} percent tip. What does each person pay?",
         f"{a} * (1 + {p} / 100) / {b}"),
    ))  # fmt: skip
    return Candidate("compute", task, [("Calculate it.", "calculator", expr)])


#: shape function -> weight
SHAPES: dict[Callable[[random.Random], Candidate], int] = {
    single: 4, compute: 4, compare: 4, advise: 3, save: 2, email: 2, translate: 2, pair: 2, director_films: 2,
    search_and_sql: 1, shares_abroad: 2, money: 1, crm_email: 1, calendar: 1, road_trip: 2, arithmetic: 1,
}  # fmt: skip


def make_candidate(rng: random.Random) -> Candidate:
    """One candidate task of a randomly chosen shape."""
    shape = rng.choices(list(SHAPES), weights=list(SHAPES.values()))[0]
    return shape(rng)
