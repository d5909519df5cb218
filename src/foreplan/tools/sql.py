"""``query_sql``: read a SQL database from a plan step; write to it only where the user says so.

The seed's ``query_mysql`` handed the model's text straight to the server. Here a
statement passes two independent layers before any row comes back:

    model text ─ clean_sql ─> check_read_only (sqlglot) ─> read-only connection ─> rows
                 fences, ;    one SELECT / WITH / SHOW /     SQLite ?mode=ro, MySQL
                              DESCRIBE / EXPLAIN, no write   START TRANSACTION READ ONLY,
                              anywhere inside it             PostgreSQL read-only session;
                                                             always rolled back

Either layer alone refuses a write; the tests check both. A database the user made writable
(``read_only=False``) takes values from earlier steps as bound parameters (``params``, one ``?``
each), so evidence reaches it as data and never as SQL. Results are typed rows (``{"columns",
"rows", "row_count", "truncated"}``): later steps say ``#E2.rows[0].Title``. The offline showcase
reads bokeh-sampledata's movies.db (:func:`movies_db_path`); PostgreSQL goes through pg8000 or psycopg.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import importlib.util
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BeforeValidator

from foreplan.errors import ConfigError, MissingExtraError, ToolError
from foreplan.tools.tool import Tool, tool
from foreplan.types import value_text

try:
    import sqlalchemy as sa
    import sqlglot
    from sqlglot import exp
except ImportError as _exc:  # pragma: no cover - depends on the installed extras
    raise MissingExtraError(_exc.name or "sqlalchemy", "mysql") from _exc

_DIALECTS = {"sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres"}
_PREFIXES = {"SHOW", "DESCRIBE", "DESC", "EXPLAIN"}
_ALLOWED_FIRST = {"SELECT", "WITH", "("} | _PREFIXES
# Words only found in statements that write, lock or export (looked for outside strings and comments)
_WRITE_WORDS = {
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE", "RENAME",
    "GRANT", "REVOKE", "INTO", "OUTFILE", "DUMPFILE", "LOCK", "CALL", "ATTACH", "DETACH", "VACUUM", "PRAGMA", "SET",
    "COPY", "HANDLER", "LOAD", "DO",
}  # fmt: skip
# Functions that read server files, write, or change state although called from a SELECT.
_WRITE_FUNCTIONS = {
    "load_file", "load_extension", "writefile", "readfile", "edit", "set_config", "nextval", "setval", "lo_import",
    "lo_export", "lo_unlink", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_terminate_backend",
    "pg_cancel_backend", "pg_reload_conf", "get_lock", "pg_advisory_lock", "pg_advisory_xact_lock", "dblink",
    "dblink_exec", "query_to_xml",
}  # fmt: skip
_WRITE_NODES = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.TruncateTable, exp.Copy,
    exp.Command, exp.Into, exp.Lock, exp.Set, exp.Pragma, exp.Transaction, exp.Commit, exp.Rollback, exp.Attach,
    exp.Detach,
)  # fmt: skip
# ```sql ... ```, ```sqlite\n...```, or a fence the model never closed
_FENCE = re.compile(r"^\s*```(?:sql\b|[\w+-]*\n)?(.*?)(?:```)?\s*$", re.S | re.I)
_READ_ONLY_HINT = "query_sql is read-only: send one SELECT (or WITH … SELECT, SHOW, DESCRIBE, EXPLAIN SELECT)"


def movies_db_path() -> Path:
    """Path of ``movies.db`` (tables ``omdb`` and ``tomatoes``) from ``bokeh-sampledata``.

    Raises:
        ConfigError: the package is not installed; the message names the pip install.
    """
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("The movies database comes from a PyPI package: pip install bokeh-sampledata")
    path = Path(next(iter(spec.submodule_search_locations))) / "_data" / "movies.db"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall it: pip install --force-reinstall bokeh-sampledata")
    return path


def clean_sql(sql: str) -> str:
    """Drop a wrapping Markdown code fence, surrounding blanks and trailing semicolons."""
    fenced = _FENCE.match(sql)
    return (fenced.group(1) if fenced else sql).strip().rstrip(";").strip()


def _tokenize(sql: str, dialect: str) -> list[tuple[int, Any]]:
    # (offset, token) pairs; sqlglot keeps the rest of EXPLAIN/SHOW … as one string token: split it too
    tokenizer, pairs, base = sqlglot.Dialect.get_or_raise(dialect), [], 0
    while True:
        tokens = tokenizer.tokenize(sql[base:])
        peel = tokens and (tokens[0].token_type == sqlglot.TokenType.COMMAND or tokens[0].text.upper() in _PREFIXES)
        if not peel or len(tokens) < 2:
            return pairs + [(base, t) for t in tokens]
        pairs.append((base, tokens[0]))
        base += tokens[0].end + 1


def check_read_only(sql: str, dialect: str) -> str:
    """The one statement in ``sql`` if it only reads, else a :class:`ToolError`.

    Args:
        sql: the statement, already through :func:`clean_sql`.
        dialect: sqlglot dialect name (sqlite, mysql, postgres).

    Raises:
        ToolError: empty, several statements, unparseable, or anything that may write.
    """
    try:
        tokens = _tokenize(sql, dialect)
    except sqlglot.errors.SqlglotError as exc:
        raise ToolError(f"SQL syntax error: {exc}") from exc
    while tokens and tokens[-1][1].token_type == sqlglot.TokenType.SEMICOLON:
        tokens.pop()
    if not tokens:
        raise ToolError(f"empty SQL; {_READ_ONLY_HINT} statement")
    if "/*!" in sql or "/*M!" in sql:  # MySQL/MariaDB run the text of these "comments"
        raise ToolError(f"{_READ_ONLY_HINT}; executable comments (/*! ... */) are refused")
    sql = sql[: tokens[-1][0] + tokens[-1][1].end + 1]  # also drops a comment after the last semicolon
    if any(t.token_type == sqlglot.TokenType.SEMICOLON for _, t in tokens):
        raise ToolError(f"{_READ_ONLY_HINT} statement, one only; this text holds several")
    first = tokens[0][1].text.upper()
    if first not in _ALLOWED_FIRST:
        raise ToolError(f"{_READ_ONLY_HINT} statement; {first} is refused")
    words = [t for _, t in tokens if t.token_type != sqlglot.TokenType.STRING]
    for i, t in enumerate(words):
        word = t.text.upper() if t.token_type != sqlglot.TokenType.IDENTIFIER else ""  # "Update" may name a column
        follows = words[i + 1].text.upper() if i + 1 < len(words) else ""
        if word in _WRITE_WORDS and not (word == "REPLACE" and follows == "("):  # replace(s, a, b) reads
            raise ToolError(f"{_READ_ONLY_HINT}; {word} may write or lock and is refused")
        if word == "FOR" and follows in ("UPDATE", "SHARE", "NO", "KEY"):
            raise ToolError(f"{_READ_ONLY_HINT}; locking reads (FOR {follows}) are refused")
        if t.text.lower() in _WRITE_FUNCTIONS and follows == "(":
            raise ToolError(f"{_READ_ONLY_HINT}; the function {t.text} is refused")
    query_at = next((o + t.start for o, t in tokens if t.text.upper() in ("SELECT", "WITH", "(")), None)
    if query_at is None:  # SHOW TABLES, DESCRIBE omdb: nothing more to parse
        return sql
    try:
        tree = sqlglot.parse_one(sql[query_at:], read=dialect)
    except sqlglot.errors.ParseError as exc:
        raise ToolError(f"SQL syntax error (or syntax query_sql does not accept): {exc}") from exc
    if not isinstance(tree, exp.Query):
        raise ToolError(f"{_READ_ONLY_HINT} statement; got {type(tree).__name__}")
    for node in tree.walk():
        if isinstance(node, _WRITE_NODES):
            raise ToolError(f"{_READ_ONLY_HINT}; {type(node).__name__.upper()} inside the query is refused")
    return sql


def to_json_value(value: Any) -> Any:
    """A database value as JSON: dates as ISO strings, Decimal as float, bytes as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (decimal.Decimal, dt.date, dt.datetime, dt.time)):
        return float(value) if isinstance(value, decimal.Decimal) else value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)  # timedelta (MySQL TIME), UUID, anything else a driver invents


def _engine_url(url: str, read_only: bool) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL ({exc}); try sqlite:///path/to/file.db") from exc
    if parsed.get_backend_name() not in _DIALECTS:
        raise ConfigError(f"query_sql supports {', '.join(_DIALECTS)} URLs, not {parsed.get_backend_name()}")
    database = parsed.database or ""
    mode = {"uri": "true", **({"mode": "ro"} if read_only else {})}
    if parsed.get_backend_name() == "postgresql" and "+" not in parsed.drivername:  # take an installed driver
        if driver := next((d for d in ("psycopg2", "psycopg", "pg8000") if importlib.util.find_spec(d)), None):
            return parsed.set(drivername=f"postgresql+{driver}")
        raise MissingExtraError("pg8000", "postgres")
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return parsed
    if database.startswith("file:"):  # already a SQLite URI filename; mode=ro wins over its own mode
        return parsed.update_query_dict(mode)
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"no SQLite database at {path}")
    # a SQLite URI filename: https://www.sqlite.org/uri.html (%-escape ?, # and %)
    return parsed.set(database=f"file:{quote(str(path), safe='/')}", query=mode)


def make_engine(url: str, *, timeout_s: float = 10, read_only: bool = True) -> sa.Engine:
    """A SQLAlchemy engine whose connections are read-only and time-limited by the database: SQLite
    ``mode=ro``, ``query_only``; MySQL/MariaDB ``TRANSACTION READ ONLY``, ``max_statement_time``; PostgreSQL
    ``default_transaction_read_only``, ``statement_timeout``. Give the user only SELECT rights as well.

    Raises:
        ConfigError: the URL is not usable (unknown backend, missing SQLite file).
    """
    engine_url = _engine_url(url, read_only)
    dialect = _DIALECTS[engine_url.get_backend_name()]
    connect_args: dict[str, Any] = {} if dialect == "sqlite" else {"connect_timeout": max(1, int(timeout_s))}
    if dialect == "mysql":  # a backstop for a server that stops answering
        connect_args["read_timeout"] = int(timeout_s) + 5
    elif engine_url.get_driver_name() == "pg8000":  # one socket timeout: connecting, and a silent server
        connect_args = {"timeout": int(timeout_s) + 5}
    engine = sa.create_engine(engine_url, pool_pre_ping=True, connect_args=connect_args)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if dialect == "sqlite" and read_only:
            cursor.execute("PRAGMA query_only = ON")
        elif dialect == "mysql":
            cursor.execute("SELECT VERSION()")
            maria = "mariadb" in str(cursor.fetchone()[0]).lower()
            cursor.execute(f"SET SESSION max_statement_time = {float(timeout_s)}" if maria
                           else f"SET SESSION max_execution_time = {int(timeout_s * 1000)}")
            if read_only:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
        elif dialect == "postgres":
            cursor.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
            if read_only:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()  # a SET inside a rolled-back transaction would be undone
        cursor.close()

    return engine


def make_query_sql(url: str, *, max_rows: int = 100, timeout_s: float = 10, read_only: bool = True) -> Tool:
    """Build the ``query_sql`` tool over one database.

    Args:
        url: SQLAlchemy URL: ``sqlite:///movies.db``, ``mysql+pymysql://user:pw@host/db``, ``postgresql://…``.
        max_rows: rows returned at most; more set ``truncated``.
        timeout_s: seconds one statement may run before the database stops it.
        read_only: refuse writes (parser check and read-only connection). Turn off only
            for a database you can lose.

    Raises:
        ConfigError: the URL is not usable (unknown backend, missing SQLite file).
    """
    engine = make_engine(url, timeout_s=timeout_s, read_only=read_only)
    dialect = _DIALECTS[backend := engine.url.get_backend_name()]

    def run(sql: str, params: Annotated[list[Any] | None, BeforeValidator(_as_list)] = None) -> dict[str, Any]:
        statement = check_read_only(clean_sql(sql), dialect) if read_only else clean_sql(sql)
        statement, values = bind_values(statement, params, dialect, engine.dialect.paramstyle)
        try:
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                if dialect == "sqlite":  # abort from SQLite's VM loop once the deadline has passed
                    deadline = time.monotonic() + timeout_s
                    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
                elif dialect == "mysql" and read_only:
                    conn.exec_driver_sql("START TRANSACTION READ ONLY")
                try:
                    result = conn.exec_driver_sql(statement, values)  # values None: nothing bound, as before
                    columns = _unique(list(result.keys())) if result.returns_rows else []
                    fetched = result.fetchmany(max_rows + 1) if result.returns_rows else []
                    changed = None if result.returns_rows else max(result.rowcount, 0)
                    if not read_only:  # the caller asked to write
                        conn.commit()
                finally:
                    conn.rollback()  # read-only: keep nothing, not even a transaction open
                    if dialect == "sqlite":
                        raw.set_progress_handler(None, 0)
        except sa.exc.DBAPIError as exc:
            raise _explain(exc) from exc
        rows = [{c: to_json_value(v) for c, v in zip(columns, row, strict=True)} for row in fetched[:max_rows]]
        answer = {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": len(fetched) > max_rows}
        return answer if changed is None else {**answer, "rows_changed": changed}

    def _explain(exc: sa.exc.DBAPIError) -> ToolError:
        pg8000 = exc.orig.args[0] if exc.orig.args and isinstance(exc.orig.args[0], dict) else {}
        message = " ".join(str(pg8000.get("M", exc.orig)).split())  # pg8000 errors are {"M": message, …}
        lower = message.lower()
        refused = isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) and "connect" in lower
        if exc.connection_invalidated or refused or "unable to open" in lower:  # pg8000: InterfaceError
            return ToolError(f"could not connect to {engine.url.render_as_string(hide_password=True)}: {message}")
        if any(k in lower for k in ("interrupted", "statement timeout", "max_statement_time", "execution time")):
            return ToolError(f"the query ran longer than {timeout_s:g} s and was stopped; simplify it or add a LIMIT")
        if any(k in lower for k in ("read-only", "read only", "readonly")):
            return ToolError(f"{_READ_ONLY_HINT} statement; the database refused to write: {message}")
        if any(k in lower for k in ("no such", "doesn't exist", "does not exist", "unknown column")):
            return ToolError(f"{message}. The database has: {describe_schema(engine)}")
        return ToolError(f"the database refused the query: {message}")

    schema = _schema_for_prompt(engine)
    table = schema.split("(", 1)[0] if schema else "table_name"
    # A writable database says so: a planner told only "query ... return its rows" stores a
    # row in a file instead (the injection suite's store-the-mail task, before this).
    what = ("Run one read-only SQL query on the {b} database and return its rows." if read_only else
            "Run one SQL statement on the {b} database: a SELECT returns its rows; INSERT, UPDATE or DELETE "
            "changes rows and says how many.").format(b=backend)
    # A value from an earlier step is bound, not written into the statement: the planner
    # is shown how, so text from a mail or a page reaches the database only as data.
    example = (f"SELECT * FROM {table} WHERE ... LIMIT 10" if read_only else
               f"SELECT * FROM {table} WHERE ... LIMIT 10; to store values from earlier steps, write ? for each "
               f"and give them after the statement: \"INSERT INTO {table} (...) VALUES (?)\", [#E1]")
    run.__doc__ = f"""{what}
    {f"Tables: {schema}." if schema else "Its tables are listed by the query SHOW TABLES (MySQL) or in sqlite_master."}

    Args:
        sql: one {"SELECT " if read_only else ""}statement in the {backend} dialect, e.g. {example}.
        params: values for the statement's ? placeholders, in order (one value may be given
            alone); text from an earlier step goes here ("... WHERE Title = ?", [#E1.title]),
            never into the statement.

    Returns:
        dict with columns, rows (a list of {{column: value}}), row_count and truncated{"" if read_only else
                                                                                      "; rows_changed for a write"}.
    """
    made = tool(run, name="query_sql", timeout=timeout_s + 5, side_effects=not read_only, render_reference=sql_literal)
    return dataclasses.replace(made, resource=ConnectionPool(engine))  # query_sql.close() closes the pool


@dataclass(frozen=True)
class ConnectionPool:
    """The ``query_sql`` tool's connections to its database, closed with the tool."""

    engine: sa.Engine

    def close(self) -> None:
        self.engine.dispose()


def _as_list(value: Any) -> Any:
    """One value given for ``params`` (``"INSERT ... VALUES (?)", #E1``) is a list of one."""
    return value if value is None or isinstance(value, (list, tuple)) else [value]


def bind_values(sql: str, params: list[Any] | None, dialect: str,
                paramstyle: str) -> tuple[str, tuple[Any, ...] | None]:
    """The statement in the driver's placeholder style, and its values as the driver binds
    them: the database receives them as data, so no value can change what the statement
    does. A planner writes ``?`` (``INSERT INTO notes (text) VALUES (?)``, ``[#E1.body]``);
    MySQL's and PostgreSQL's drivers take ``%s``, and then every other ``%`` is doubled.
    A list or an object becomes its JSON text.

    Raises:
        ToolError: the number of values differs from the number of placeholders.
    """
    if params is None:
        return sql, None
    marks = [at + t.start for at, t in _tokenize(sql, dialect)
             if t.token_type == sqlglot.TokenType.PLACEHOLDER and t.text == "?"]
    if len(marks) != len(params):
        raise ToolError(f"the statement has {len(marks)} ? placeholder{'s' if len(marks) != 1 else ''} and params "
                        f"gives {len(params)} value{'s' if len(params) != 1 else ''}; write one ? for each value")
    values = tuple(v if v is None or isinstance(v, (str, int, float)) else value_text(v) for v in params)
    if paramstyle == "qmark":
        return sql, values
    if paramstyle not in ("format", "pyformat"):  # pragma: no cover - the three supported drivers use these
        raise ToolError(f"params are not supported by this database driver ({paramstyle} placeholders)")
    pieces, last = [], 0
    for at in marks:
        pieces += [sql[last:at].replace("%", "%%"), "%s"]
        last = at + 1
    return "".join([*pieces, sql[last:].replace("%", "%%")]), values


def sql_literal(value: Any, inside_quotes: bool) -> str:
    """An earlier result written into a query: ``Director = #E1.rows[0].Director`` becomes
    ``Director = 'Christopher Nolan'``, and inside quotes (``'#E1.rows[0].Director'``)
    only the quotes are doubled, so evidence such as ``O'Brien`` neither breaks the
    statement nor adds to it."""
    if inside_quotes:
        return value_text(value).replace("'", "''")
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + value_text(value).replace("'", "''") + "'"


def _unique(columns: list[str]) -> list[str]:
    # SELECT a.id, b.id gives two "id" columns; keep both as id and id_2
    return [f"{name}_{columns[:i].count(name) + 1}" if name in columns[:i] else name for i, name in enumerate(columns)]


#: The planner reads the schema in the tool's description; longer schemas are cut there.
PROMPT_SCHEMA_CHARS = 600


def _schema_for_prompt(engine: sa.Engine) -> str | None:
    """The tables and columns for the tool's description, or None when the database
    cannot be reached now (the tool still works once it can; errors name the tables)."""
    try:
        return describe_schema(engine, PROMPT_SCHEMA_CHARS)
    except sa.exc.SQLAlchemyError:
        return None


def describe_schema(engine: sa.Engine, limit: int = 2000) -> str:
    """``table(col, col, ...)`` for every table and view, cut at ``limit`` characters."""
    db = sa.inspect(engine)
    text = "; ".join(f"{n}({', '.join(c['name'] for c in db.get_columns(n))})"
                     for n in db.get_table_names() + db.get_view_names()) or "no tables"
    return text if len(text) <= limit else text[: limit - 3] + "..."
