"""Step texts as a ReWOO planner writes them, each with the arguments a caller should reply.

The function-caller data (``caller_data.py``) needs many realistic step inputs per tool:
the value alone, key=value pairs, prose ("250 EUR to JPY"), JSON with the wrong keys.
They live here so the data builder reads as conversion and bookkeeping only.
"""

from __future__ import annotations

import calendar
import json
import random
from typing import Any

from foreplan.synth import entities as ent

Args = dict[str, Any]
Call = tuple[str, str, Args]
"""(plan sentence, step input after substitution, the arguments the caller should reply)"""


# Step texts as a planner writes them: the value alone, key=value, prose, JSON with the wrong keys.
def _text(r: random.Random) -> str:
    """A line a step carries: a fixed sentence or an earlier step's summary, references substituted."""
    film, year, _ = r.choice(ent.FILMS)
    company, ticker = r.choice(ent.COMPANIES)
    city = r.choice(ent.CITIES)[0]
    return r.choice(("The report is ready and attached for review.", f"{film} was released in {year}",
                     f"{company} ({ticker}) trades at {r.randint(2000, 90000) / 100} USD today",
                     f"Weather in {city}: light rain, {r.randint(-3, 33)} C, humidity {r.randint(20, 95)} percent",
                     f"The meeting with {r.choice(ent.COLLEAGUES)} moved to Friday at 10.",
                     f"{city} has {r.randint(500, 15000) * 1000} inhabitants (2023)", "Thank you for your order!"))


def _same(values: tuple) -> tuple[tuple[str, str], ...]:
    return tuple((v[0], v[0]) if isinstance(v, tuple) else (v, v) for v in values)


#: tool -> ((as said, value) choices, parameter, a wrong key, a prose lead-in, the plan sentence)
_SINGLE: dict[str, tuple[tuple[tuple[str, str], ...], str, str, str, str]] = {
    "get_weather": (_same(ent.CITIES), "city", "location", "weather in", "Get the current weather in {x}."),
    "lookup_stock_price": (ent.COMPANIES, "ticker", "symbol", "share price of", "Look up the latest share price of {x}."),
    "query_crm": (_same(ent.CUSTOMERS), "customer", "name", "customer", "Look up {x} in the CRM."),
    "get_population": (_same(ent.CITIES), "place", "city", "population of", "Look up the population of {x}."),
    "search_news": (_same(ent.NEWS_TOPICS), "query", "topic", "news about", "Search the news for {x}."),
    "lookup_definition": (_same(ent.WORDS), "word", "term", "definition of", "Look up the definition of {x}."),
    "get_flight_status": (_same(ent.FLIGHTS), "flight", "flight_number", "status of", "Get the status of flight {x}."),
    "lookup_recipe": (_same(ent.DISHES), "dish", "recipe", "recipe for", "Look up a recipe for {x}."),
}


def _multi(r: random.Random, name: str) -> Call:
    """A step for a tool of several arguments (the calls the caller model does get at inference)."""
    if name == "convert_currency":
        s, t = r.sample(sorted(ent.CURRENCIES), 2)
        a: float = r.choice((r.randint(1, 50) * 10, r.randint(100, 999999) / 100))
        text = r.choice((f"{a} {s} to {t}", f"{a} {s} in {t}", f"{s} {a} -> {t}", f"amount={a}, from {s} to {t}",
                         json.dumps({"amount": a, "from": s, "to": t}), f"{t} value of {a} {s}"))
        plan = r.choice((f"Convert {a} {s} to {t}.", f"Convert the total from {s} to {t}."))
        return plan, text, {"amount": a, "source": s, "target": t}
    if name == "translate":
        body, lang = _text(r), r.choice(ent.LANGUAGES)
        text = r.choice((f"{body} -> {lang}", f"into {lang}: {body}", f"{lang}: {body}",
                         json.dumps({"text": body, "language": lang}, ensure_ascii=False)))
        return f"Translate the result into {lang}.", text, {"text": body, "target_language": lang}
    if name == "send_email":
        who = r.choice(ent.COLLEAGUES + tuple(c for c, _ in ent.CUSTOMERS))
        to, body = f"{'.'.join(who.lower().split())}@example.com", _text(r)
        subject = r.choice(("Weekly report", "Quick update", f"Hello {who.split()[0]}", "Reminder", "Follow-up"))
        plan, text = r.choice(((f"Email the result to {who}.", f"to {to}, subject {subject}: {body}"),
                               (f"Email {who}.", f"{to} | {subject} | {body}"),
                               (f"Send {who} an email.", f"to={to}; subject={subject}; body={body}"),
                               (f"Email {who} with the subject {subject}.", f"to {to}: {body}"),
                               (f"Email {who}.", json.dumps({"recipient": to, "title": subject, "message": body}))))
        return plan, text, {"to": to, "subject": subject, "body": body}
    if name == "create_calendar_event":
        title = r.choice(("Team lunch", "Dentist", "Call with the Berlin office", "Quarterly review", "Flight home",
                          f"Coffee with {r.choice(ent.COLLEAGUES)}"))
        month, day = r.randint(1, 12), r.randint(1, 28)
        date, said = f"2026-{month:02d}-{day:02d}", f"{calendar.month_name[month]} {day}, 2026"
        text = r.choice((f"{title} on {date}", f"{date}: {title}", f"title={title}, date={date}",
                         f"{title} on {said}", json.dumps({"name": title, "day": date})))
        return f"Add the event {title} to the calendar.", text, {"title": title, "date": date}
    if name == "get_distance":
        a_, b_ = (c[0] for c in r.sample(ent.CITIES, 2))
        text = r.choice((f"{a_} to {b_}", f"from {a_} to {b_}", f"{a_} - {b_}", f"between {a_} and {b_}",
                         json.dumps({"from": a_, "to": b_})))
        return f"Get the road distance from {a_} to {b_}.", text, {"origin": a_, "destination": b_}
    if name == "save_file":
        content, slug = _text(r), r.choice(ent.CITIES)[0].lower().replace(" ", "_")
        path = f"{r.choice(('notes', 'reports', 'out'))}/{slug}.{r.choice(('md', 'txt'))}"
        text = r.choice((f"{path}: {content}", f"path={path}, content={content}", f"to {path}: {content}",
                         json.dumps({"filename": path, "text": content}, ensure_ascii=False)))
        return f"Save the result to {path}.", text, {"path": path, "content": content}
    # search_arxiv / search_wiki: a query and, when the step says how many, a count
    count, what, topics = _SEARCHES[name]
    topic, n = r.choice(topics), r.randint(1, 8)
    if r.random() < 0.4:
        return f"Search {what} for {topic}.", topic, {"query": topic}
    text = r.choice((f"{n} results on {topic}", f"query={topic}, {count}={n}", f"top {n}: {topic}",
                     json.dumps({"q": topic, "n": n})))
    return f"Search {what} for the {n} best matches on {topic}.", text, {"query": topic, count: n}


_SEARCHES = {"search_arxiv": ("max_results", "arXiv", ent.RESEARCH_TOPICS),
             "search_wiki": ("k", "the encyclopedia", tuple(f"{t} film" for t, _, _ in ent.FILMS))}
_MULTI = ("convert_currency", "translate", "send_email", "create_calendar_event", "get_distance", "save_file",
          *_SEARCHES)


#: Every synthetic tool and the built-in offline tools with several arguments.
SYNTH_CALL_TOOLS: tuple[str, ...] = tuple(sorted({*_SINGLE, *_MULTI}))


def synth_call(r: random.Random, name: str) -> Call:
    """One step for tool ``name`` with the arguments it should become."""
    if name in _MULTI:
        return _multi(r, name)
    values, param, wrong, phrase, plan = _SINGLE[name]
    said, value = r.choice(values)
    text = r.choice((value, value, f"{param}: {value}", f"{phrase} {value}", json.dumps({wrong: value})))
    return plan.format(x=said), text, {param: value}
