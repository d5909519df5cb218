"""Real names that fill the task templates: cities, companies, films, flights, dishes.

Synthesized tasks read like tasks people write only when their slots hold real things,
so these lists are fixed, checked by hand (every film is in the movies database of
``bokeh-sampledata`` with this director and year) and free of quotes, so that a value
can sit inside a JSON string or an SQL literal of a plan without escaping.
"""

from __future__ import annotations

#: (city, IANA zone, population in millions, rounded, 2020s estimates of the city proper)
CITIES: tuple[tuple[str, str, float], ...] = (
    ("Tokyo", "Asia/Tokyo", 14.0), ("Paris", "Europe/Paris", 2.1), ("London", "Europe/London", 8.9),
    ("New York", "America/New_York", 8.3), ("Berlin", "Europe/Berlin", 3.7), ("Madrid", "Europe/Madrid", 3.3),
    ("Rome", "Europe/Rome", 2.8), ("Sydney", "Australia/Sydney", 5.3), ("Toronto", "America/Toronto", 2.8),
    ("Mumbai", "Asia/Kolkata", 12.5), ("Singapore", "Asia/Singapore", 5.6), ("Cairo", "Africa/Cairo", 10.0),
    ("Lagos", "Africa/Lagos", 15.4), ("Sao Paulo", "America/Sao_Paulo", 12.3), ("Mexico City", "America/Mexico_City", 9.2),
    ("Chicago", "America/Chicago", 2.7), ("Los Angeles", "America/Los_Angeles", 3.9), ("Seoul", "Asia/Seoul", 9.4),
    ("Istanbul", "Europe/Istanbul", 15.5), ("Vienna", "Europe/Vienna", 2.0), ("Stockholm", "Europe/Stockholm", 1.0),
    ("Nairobi", "Africa/Nairobi", 4.4), ("Buenos Aires", "America/Argentina/Buenos_Aires", 3.1),
    ("Bangkok", "Asia/Bangkok", 10.5), ("Dubai", "Asia/Dubai", 3.6), ("Lisbon", "Europe/Lisbon", 0.5),
)  # fmt: skip

#: (company, ticker)
COMPANIES: tuple[tuple[str, str], ...] = (
    ("Apple", "AAPL"), ("Microsoft", "MSFT"), ("Alphabet", "GOOGL"), ("Amazon", "AMZN"), ("Nvidia", "NVDA"),
    ("Tesla", "TSLA"), ("Meta", "META"), ("Netflix", "NFLX"), ("IBM", "IBM"), ("Intel", "INTC"),
    ("Oracle", "ORCL"), ("Adobe", "ADBE"), ("Salesforce", "CRM"), ("Coca-Cola", "KO"), ("Nike", "NKE"),
    ("Disney", "DIS"), ("Visa", "V"), ("Pfizer", "PFE"), ("Boeing", "BA"), ("AMD", "AMD"),
)  # fmt: skip

#: ISO code -> units per US dollar (fixed, so converted amounts are reproducible)
CURRENCIES: dict[str, float] = {
    "USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.0, "CHF": 0.88, "CNY": 7.2, "INR": 83.0,
    "CAD": 1.36, "AUD": 1.52, "SEK": 10.6, "BRL": 5.0, "MXN": 17.1,
}  # fmt: skip

#: (title, year, director) rows of the omdb table; one director each, no quotes.
FILMS: tuple[tuple[str, int, str], ...] = (
    ("Inception", 2010, "Christopher Nolan"), ("The Dark Knight", 2008, "Christopher Nolan"),
    ("Interstellar", 2014, "Christopher Nolan"), ("Memento", 2000, "Christopher Nolan"),
    ("Pulp Fiction", 1994, "Quentin Tarantino"), ("Django Unchained", 2012, "Quentin Tarantino"),
    ("Avatar", 2009, "James Cameron"), ("Jurassic Park", 1993, "Steven Spielberg"), ("Jaws", 1975, "Steven Spielberg"),
    ("Fight Club", 1999, "David Fincher"), ("Zodiac", 2007, "David Fincher"), ("The Social Network", 2010, "David Fincher"),
    ("Alien", 1979, "Ridley Scott"), ("Blade Runner", 1982, "Ridley Scott"), ("Goodfellas", 1990, "Martin Scorsese"),
    ("The Departed", 2006, "Martin Scorsese"), ("Vertigo", 1958, "Alfred Hitchcock"), ("Casablanca", 1942, "Michael Curtiz"),
    ("Black Swan", 2010, "Darren Aronofsky"), ("Moonrise Kingdom", 2012, "Wes Anderson"), ("Argo", 2012, "Ben Affleck"),
    ("Her", 2013, "Spike Jonze"), ("Skyfall", 2012, "Sam Mendes"), ("The Godfather", 1972, "Francis Ford Coppola"),
    ("Braveheart", 1995, "Mel Gibson"), ("Forrest Gump", 1994, "Robert Zemeckis"), ("Toy Story", 1995, "John Lasseter"),
    ("WALL-E", 2008, "Andrew Stanton"), ("Mulholland Drive", 2001, "David Lynch"), ("Rocky", 1976, "John G. Avildsen"),
)  # fmt: skip

#: (flight number, from airport, to airport)
FLIGHTS: tuple[tuple[str, str, str], ...] = (
    ("LH400", "FRA", "JFK"), ("BA117", "LHR", "JFK"), ("AF1234", "CDG", "FCO"), ("UA901", "SFO", "FRA"),
    ("DL15", "ATL", "LAX"), ("EK202", "DXB", "JFK"), ("QF1", "SYD", "LHR"), ("SQ322", "SIN", "LHR"),
    ("NH10", "NRT", "JFK"), ("KL641", "AMS", "JFK"), ("IB6251", "MAD", "JFK"), ("AC849", "YYZ", "LHR"),
    ("LX18", "ZRH", "EWR"), ("TK1", "IST", "JFK"), ("QR701", "DOH", "JFK"),
)  # fmt: skip

DISHES = (
    "pad thai", "shakshuka", "risotto alla milanese", "chicken tikka masala", "ramen", "paella", "moussaka",
    "pancakes", "lasagna", "guacamole", "banana bread", "miso soup", "goulash", "falafel", "ratatouille",
)  # fmt: skip

#: (customer, company) for the CRM; fictional people at fictional firms.
CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("Anna Schmidt", "Nordlicht GmbH"), ("Carlos Ruiz", "Andes Logistics"), ("Mei Chen", "Lotus Analytics"),
    ("John Carter", "Carter and Sons"), ("Fatima Khan", "Indus Textiles"), ("Lars Berg", "Fjord Energy"),
    ("Aiko Tanaka", "Sakura Robotics"), ("Olivia Brown", "Maple Foods"), ("Pierre Dubois", "Rive Gauche Media"),
    ("Grace Okafor", "Sahel Solar"), ("Tom Fischer", "Alpen Bikes"), ("Priya Nair", "Kerala Spice Co"),
)  # fmt: skip

COLLEAGUES = ("Maria", "David", "Sofia", "Kenji", "Amara", "Lukas", "Hannah", "Omar", "Chloe", "Ravi")

RESEARCH_TOPICS = (
    "retrieval augmented generation", "LoRA fine-tuning", "diffusion models", "graph neural networks",
    "speculative decoding", "mixture of experts", "protein folding", "reinforcement learning from human feedback",
    "vision transformers", "quantization of language models", "tool use by language models", "federated learning",
)  # fmt: skip

NEWS_TOPICS = (
    "the European Central Bank", "electric cars", "the Mars rover", "the World Cup", "solar power", "the Olympics",
    "semiconductor exports", "the housing market", "AI regulation", "the James Webb telescope",
)  # fmt: skip

WORDS = ("serendipity", "ephemeral", "ubiquitous", "quixotic", "laconic", "sonder", "petrichor", "hygge", "liminal")

LANGUAGES = ("French", "Spanish", "German", "Japanese", "Italian", "Portuguese", "Korean", "Dutch")
