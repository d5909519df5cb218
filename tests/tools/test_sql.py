"""query_sql reads the movies database and refuses every write, at both layers.

SQLite runs always, on a copy of bokeh-sampledata's movies.db whose sha256 must not
change. The MariaDB tests (marked ``server``) start a real server from tests/tools/mariadb.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import shutil
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from mariadb import MariaDB, mariadb_server  # noqa: F401 - the fixture is used by name

from foreplan.errors import ConfigError, ToolError
from foreplan.tools.sql import (
    bind_values,
    clean_sql,
    make_engine,
    make_query_sql,
    movies_db_path,
    sql_literal,
    to_json_value,
)

NOLAN = "SELECT Title FROM omdb WHERE Director = 'Christopher Nolan'"
SLOW_CTE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

WRITES = [
    # DML, upserts
    "INSERT INTO omdb (Title) VALUES ('x')", "insert into omdb(Title) select Title from omdb",
    "UPDATE omdb SET Title = 'x'", "DELETE FROM omdb", "DELETE FROM omdb WHERE ID IN (SELECT ID FROM omdb LIMIT 1)",
    "REPLACE INTO omdb (ID, Title) VALUES (1, 'x')", "INSERT OR REPLACE INTO omdb (ID) VALUES (1)",
    "INSERT INTO omdb (ID) VALUES (1) ON CONFLICT DO NOTHING", "UPSERT INTO omdb (ID) VALUES (1)",
    "INSERT INTO omdb (ID) VALUES (1) ON CONFLICT(ID) DO UPDATE SET Title = 'x'",
    "INSERT INTO omdb (ID) VALUES (1) ON DUPLICATE KEY UPDATE Title = 'x'", "INSERT INTO omdb DEFAULT VALUES",
    "MERGE INTO omdb USING tomatoes ON omdb.ID = tomatoes.ID WHEN MATCHED THEN DELETE",
    # DDL
    "DROP TABLE omdb", "DROP TABLE IF EXISTS tomatoes", "CREATE TABLE t (x INT)", "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE TABLE t AS SELECT * FROM omdb", "CREATE VIEW v AS SELECT * FROM omdb", "CREATE INDEX i ON omdb (Title)",
    "CREATE TRIGGER tr AFTER INSERT ON omdb BEGIN DELETE FROM omdb; END", "ALTER TABLE omdb ADD COLUMN x INT",
    "ALTER TABLE omdb RENAME TO films", "DROP INDEX omdb_ID", "TRUNCATE TABLE omdb", "RENAME TABLE omdb TO films",
    # several statements, hidden after comments and strings
    "SELECT 1; DROP TABLE omdb", "SELECT 1;DELETE FROM omdb;", "SELECT 1 -- harmless\n; DROP TABLE omdb",
    "SELECT 1 /* ; */ ; DELETE FROM omdb", "SELECT ';'; DELETE FROM omdb", "```sql\nSELECT 1;\nDROP TABLE omdb;\n```",
    "(SELECT 1) ; DROP TABLE omdb", "SHOW TABLES; DROP TABLE omdb", "BEGIN; DELETE FROM omdb; COMMIT",
    # comments
    "/* SELECT */ DELETE FROM omdb", "-- SELECT 1\nDELETE FROM omdb", "  \n\t delete from omdb",
    "SELECT 1 /*!50000 , (SELECT 1 INTO OUTFILE '/tmp/x') */", "SELECT 1 /*M! ; DROP TABLE omdb */",
    # CTEs that write, or lead to a write
    "WITH x AS (DELETE FROM omdb RETURNING *) SELECT * FROM x",
    "WITH x AS (INSERT INTO omdb (ID) VALUES (1) RETURNING ID) SELECT * FROM x",
    "WITH x AS (UPDATE omdb SET Title = 'x' RETURNING ID) SELECT count(*) FROM x",
    "WITH x AS (SELECT 1) DELETE FROM omdb", "WITH x AS (SELECT 1) INSERT INTO omdb (ID) SELECT * FROM x",
    "WITH x AS (SELECT 1) UPDATE omdb SET Title = 'x'",
    # SELECT ... INTO, file access
    "SELECT * INTO films FROM omdb", "SELECT Title INTO @t FROM omdb LIMIT 1",
    "SELECT * FROM omdb INTO OUTFILE '/tmp/o.csv'", "SELECT * INTO DUMPFILE '/tmp/x' FROM omdb",
    "SELECT LOAD_FILE('/etc/passwd')", "LOAD DATA INFILE '/tmp/x' INTO TABLE omdb",
    "SELECT * FROM omdb WHERE ID = 1 UNION SELECT * FROM omdb INTO OUTFILE '/tmp/x'", "COPY omdb TO '/tmp/omdb.csv'",
    "SELECT load_extension('/tmp/evil.so')", "SELECT writefile('/tmp/x', 'y')", "SELECT \"load_extension\"('x')",
    "SELECT `LOAD_FILE`('/etc/passwd')", "SELECT * FROM omdb FOR UPDATE", "SELECT * FROM omdb FOR SHARE",
    # locking reads (two more above), SQLite specials
    "SELECT * FROM omdb LOCK IN SHARE MODE", "SELECT * FROM omdb FOR NO KEY UPDATE", "LOCK TABLES omdb WRITE",
    "PRAGMA journal_mode = WAL", "PRAGMA user_version = 7", "PRAGMA query_only = OFF", "REINDEX", "ANALYZE",
    "ATTACH DATABASE '/tmp/evil.db' AS evil", "DETACH DATABASE main", "VACUUM", "VACUUM INTO '/tmp/copy.db'",
    # procedures and server state
    "CALL drop_everything()", "EXEC sp_who", "DO SLEEP(1)", "HANDLER omdb OPEN", "GRANT ALL ON *.* TO 'x'@'%'",
    "SELECT set_config('default_transaction_read_only', 'off', false)", "SELECT nextval('s')",
    "EXPLAIN ANALYZE DELETE FROM omdb", "EXPLAIN DELETE FROM omdb", "DESCRIBE DELETE FROM omdb",
    # SET and transactions
    "SET autocommit = 1", "SET SESSION TRANSACTION READ WRITE", "BEGIN", "COMMIT", "ROLLBACK",
    "START TRANSACTION READ WRITE", "SAVEPOINT a", "RELEASE a",
]  # fmt: skip

# MySQL reads "--1" as minus minus one, not as a comment (SQLite does: harmless there)
MYSQL_WRITES = ["SELECT 1 --1 INTO OUTFILE '/tmp/x'", "SELECT 1 #\n INTO OUTFILE '/tmp/x'"]

READS = [
    NOLAN, "select title from omdb where title like '%update%' or title = 'Insert; Coin'",
    'SELECT "Title" AS "Update" FROM omdb WHERE Title = \'Drop Dead Gorgeous\'',
    "WITH n AS (SELECT * FROM omdb WHERE Year > 2010) SELECT count(*) AS n FROM n",
    "SELECT replace(Title, ' ', '_') AS t FROM omdb LIMIT 1", "SELECT 1 UNION SELECT 2", "SELECT * FROM (SELECT 1)",
    "EXPLAIN QUERY PLAN SELECT * FROM omdb WHERE ID = 1", "SELECT 1; -- a trailing comment", "```\nSELECT 1\n```",
    "SELECT o.Title, t.Meter FROM omdb o JOIN tomatoes t ON t.ID = o.ID LIMIT 2",
]  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def pristine() -> str:
    # every copy must still match the shipped file after a refused write
    return sha256(movies_db_path())


@pytest.fixture(scope="module")
def movies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of movies.db: only the read-only layers keep it unchanged."""
    path = tmp_path_factory.mktemp("movies") / "movies.db"
    shutil.copyfile(movies_db_path(), path)
    return path


@pytest.fixture(scope="module")
def query_sql(movies: Path):
    return make_query_sql(f"sqlite:///{movies}", max_rows=20, timeout_s=2)


def test_movies_db_ships_with_bokeh_sampledata() -> None:
    assert movies_db_path().name == "movies.db" and movies_db_path().is_file()


def test_tool_is_described_for_the_planner(query_sql) -> None:
    assert query_sql.name == "query_sql" and query_sql.single_input == "sql"
    assert "read-only" in query_sql.description and "truncated" in query_sql.returns
    assert query_sql.side_effects is False and query_sql.timeout == 7
    # The planner sees the tables and their columns, so it can write a query without asking.
    assert "Tables: omdb(ID, imdbID, Title, Year," in query_sql.description
    assert "tomatoes(" in query_sql.description


def test_an_unreachable_database_leaves_the_tables_out_of_the_description() -> None:
    tool = make_query_sql("postgresql+pg8000://nobody@127.0.0.1:9/none", timeout_s=1)
    assert "Tables:" not in tool.description and "SELECT * FROM table_name" in str(tool.parameters)


@pytest.mark.parametrize(("value", "inside", "expected"), [
    ("Christopher Nolan", False, "'Christopher Nolan'"),
    ("O'Brien", False, "'O''Brien'"),
    ("O'Brien", True, "O''Brien"),
    (1995, False, "1995"),
    (7.5, False, "7.5"),
    (None, False, "NULL"),
    (True, False, "TRUE"),
    (["a", "b"], False, """'["a", "b"]'"""),
])
def test_referenced_values_become_sql_literals(value, inside, expected) -> None:
    assert sql_literal(value, inside) == expected


def test_a_plan_step_references_evidence_as_sql_literals(query_sql) -> None:
    from foreplan.execute.dag import Worker
    from foreplan.tools.toolkit import Toolkit
    from foreplan.types import Plan, Step

    plan = Plan((
        Step("E1", "Find the director.", "query_sql", "SELECT Director FROM omdb WHERE Title = 'Inception'"),
        # Unquoted and quoted references give the same query.
        Step("E2", "His films.", "query_sql", "SELECT Title FROM omdb WHERE Director = #E1.rows[0].Director"),
        Step("E3", "Same, quoted.", "query_sql", "SELECT Title FROM omdb WHERE Director = '#E1.rows[0].Director'"),
        # Evidence that looks like SQL stays a value.
        Step("E4", "A hostile value.", "query_sql", "SELECT 'x'' OR ''1''=''1' AS t"),
        Step("E5", "Use it.", "query_sql", "SELECT count(*) AS n FROM omdb WHERE Title = #E4.rows[0].t"),
    ))
    evidence = Worker(Toolkit([query_sql])).run(plan)
    assert evidence["E2"].input == "SELECT Title FROM omdb WHERE Director = 'Christopher Nolan'"
    assert {"Title": "Inception"} in evidence["E2"].value["rows"]
    assert evidence["E2"].value == evidence["E3"].value
    assert evidence["E4"].value["rows"] == [{"t": "x' OR '1'='1"}]
    assert evidence["E5"].ok and evidence["E5"].value["rows"] == [{"n": 0}], evidence["E5"]


def test_nolan_films_include_inception(query_sql) -> None:
    result = query_sql(sql=NOLAN)
    assert result["columns"] == ["Title"]
    assert {"Title": "Inception"} in result["rows"]
    assert result["row_count"] == len(result["rows"]) and result["truncated"] is False


def test_rows_are_typed(query_sql) -> None:
    row = query_sql(sql="SELECT Title, Year, Runtime, Released FROM omdb WHERE Title = 'Inception'")["rows"][0]
    assert row == {"Title": "Inception", "Year": 2010, "Runtime": 148.0, "Released": "2010-07-08"}


def test_row_limit_sets_truncated(query_sql) -> None:
    result = query_sql(sql="SELECT ID FROM omdb")
    assert result["row_count"] == 20 and len(result["rows"]) == 20 and result["truncated"] is True


def test_duplicate_column_names_are_kept_apart(query_sql) -> None:
    result = query_sql(sql="SELECT o.ID, t.ID FROM omdb o JOIN tomatoes t ON t.ID = o.ID LIMIT 1")
    assert result["columns"] == ["ID", "ID_2"]


@pytest.mark.parametrize("sql", ["SELECT * FROM movies", "SELECT Name FROM omdb"])
def test_unknown_names_list_the_tables(query_sql, sql: str) -> None:
    with pytest.raises(ToolError, match=r"no such (table|column).*omdb\(ID, imdbID, Title.*Director.*tomatoes\("):
        query_sql(sql=sql)


def test_syntax_error_is_a_tool_error(query_sql) -> None:
    with pytest.raises(ToolError, match="syntax error"):
        query_sql(sql="SELECT Title FROM omdb WHERE")


def test_slow_query_is_stopped(query_sql) -> None:
    with pytest.raises(ToolError, match="longer than 2 s"):  # stopped: SLOW_CTE never ends by itself
        query_sql(sql=SLOW_CTE)


def test_empty_sql_is_refused(query_sql) -> None:
    with pytest.raises(ToolError, match="empty SQL"):
        query_sql(sql="```sql\n;\n```")


@pytest.mark.parametrize("sql", READS)
def test_reads_are_allowed(query_sql, sql: str) -> None:
    assert query_sql(sql=sql)["columns"]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_by_the_parser(query_sql, movies: Path, sql: str) -> None:
    files = sorted(movies.parent.iterdir())
    with pytest.raises(ToolError, match="read-only"):
        query_sql(sql=sql)
    assert sha256(movies) == pristine() and sorted(movies.parent.iterdir()) == files


LAYER2 = [
    "INSERT INTO omdb (Title) VALUES ('x')", "UPDATE omdb SET Title = 'x'", "DELETE FROM omdb",
    "DROP TABLE omdb", "CREATE TABLE t (x INT)", "ALTER TABLE omdb ADD COLUMN x INT", "CREATE INDEX i ON omdb (Title)",
    "VACUUM",
]  # fmt: skip


@pytest.mark.parametrize("sql", LAYER2)
def test_sqlite_connection_itself_is_read_only(movies: Path, sql: str) -> None:
    engine = make_engine(f"sqlite:///{movies}")
    with engine.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly|read-only"):
        conn.exec_driver_sql(sql)
    engine.dispose()
    assert sha256(movies) == pristine()


def test_read_write_mode_can_write(tmp_path: Path, movies: Path) -> None:
    # proves that the refusals above come from the read-only layers, not from the file
    scratch = tmp_path / "scratch.db"
    shutil.copyfile(movies, scratch)
    writer = make_query_sql(f"sqlite:///{scratch}", read_only=False)
    assert writer.description.startswith("Run one SQL statement on the sqlite database: a SELECT returns its rows; "
                                         "INSERT, UPDATE or DELETE changes rows")
    deleted = writer(sql="DELETE FROM omdb")
    assert deleted["columns"] == [] and deleted["rows_changed"] > 0
    assert "rows_changed" not in writer(sql="SELECT count(*) AS n FROM omdb")
    assert make_query_sql(f"sqlite:///{scratch}")(sql="SELECT count(*) AS n FROM omdb")["rows"] == [{"n": 0}]


def test_values_are_bound_in_each_drivers_style() -> None:
    sql = "INSERT INTO notes (a, b) VALUES (?, ?) -- '?' and 5% stay text"
    assert bind_values(sql, None, "sqlite", "qmark") == (sql, None)
    assert bind_values(sql, ["x", {"k": 1}], "sqlite", "qmark") == (sql, ("x", '{"k": 1}'))
    assert bind_values("SELECT * FROM t WHERE a LIKE '5%' AND b = ? AND c = '?'", [3], "mysql", "pyformat") == (
        "SELECT * FROM t WHERE a LIKE '5%%' AND b = %s AND c = '?'", (3,))
    with pytest.raises(ToolError, match=r"has 2 \? placeholders and params gives 1 value; write one \? for each"):
        bind_values(sql, ["x"], "sqlite", "qmark")


def test_a_writable_database_stores_evidence_as_bound_data(tmp_path: Path) -> None:
    from foreplan.execute.dag import Worker
    from foreplan.tools.tool import tool
    from foreplan.tools.toolkit import Toolkit
    from foreplan.types import Plan, Step

    database = tmp_path / "notes.db"
    with sa.create_engine(f"sqlite:///{database}").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    hostile = "Offsite at 10'); DROP TABLE notes; -- and ? marks"

    @tool
    def read_inbox(folder: str = "inbox") -> dict:
        """Read the newest message.

        Args:
            folder: the mail folder.
        """
        return {"subject": "Offsite", "body": hostile}

    writer = make_query_sql(f"sqlite:///{database}", read_only=False)
    assert '"INSERT INTO notes (...) VALUES (?)", [#E1]' in writer.description + str(writer.parameters)
    plan = Plan((
        Step("E1", "Read the mail.", "read_inbox", "inbox"),
        Step("E2", "Store its body.", "query_sql", '"INSERT INTO notes (text) VALUES (?)", [#E1.body]'),
        Step("E3", "Read it back.", "query_sql", "SELECT text FROM notes WHERE text LIKE ?, ['%DROP%']"),
        Step("E4", "Too few values.", "query_sql", '"INSERT INTO notes (id, text) VALUES (?, ?)", [#E1.subject]'),
        Step("E5", "One value, given alone.", "query_sql", '"INSERT INTO notes (text) VALUES (?)", #E1.subject'),
    ))
    evidence = Worker(Toolkit([read_inbox, writer])).run(plan)
    assert evidence["E2"].ok and evidence["E2"].value["rows_changed"] == 1, evidence["E2"]
    assert not evidence["E3"].ok  # free SQL followed by a list is one statement, and not valid SQL
    assert not evidence["E4"].ok and "has 2 ? placeholders and params gives 1" in evidence["E4"].error
    assert evidence["E5"].ok and evidence["E5"].arguments["params"] == ["Offsite"], evidence["E5"]
    stored = writer(sql="SELECT text FROM notes")["rows"]  # E2 and E5 may run in either order
    assert sorted(r["text"] for r in stored) == sorted([hostile, "Offsite"])


@pytest.mark.parametrize(
    ("url", "match"),
    [("sqlite:////nonexistent/nope.db", "no SQLite database"), ("oracle://u:p@localhost/x", "supports sqlite")],
)
def test_unusable_url_is_a_config_error(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_query_sql(url)


def test_connection_refused_is_a_tool_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    query = make_query_sql(f"mysql+pymysql://u:secret@127.0.0.1:{port}/x", timeout_s=2)
    with pytest.raises(ToolError, match=r"could not connect to mysql\+pymysql://u:\*\*\*@127.0.0.1"):
        query(sql="SELECT 1")


def test_clean_sql_strips_fences_and_semicolons() -> None:
    assert clean_sql("```sql\nSELECT 1;\n```") == clean_sql("  SELECT 1 ;; ") == "SELECT 1"
    assert clean_sql("```sql SELECT 1```") == clean_sql("```sqlite\nSELECT 1\n```") == "SELECT 1"
    assert clean_sql("```\nSELECT '```'\n```") == "SELECT '```'" and clean_sql("```sql\nSELECT 1;") == "SELECT 1"


def test_values_become_json() -> None:
    assert to_json_value(decimal.Decimal("8.8")) == 8.8
    assert to_json_value(dt.date(2010, 7, 8)) == "2010-07-08"
    assert to_json_value(dt.datetime(2010, 7, 8, 9, 30)) == "2010-07-08T09:30:00"
    assert to_json_value(dt.timedelta(hours=2, minutes=28)) == "2:28:00"
    assert to_json_value(b"abc") == "abc" and to_json_value(b"\xff") == "\\xff"


def mariadb_state(server: MariaDB) -> tuple:  # MariaDB from here on
    with server.root_connect() as conn, conn.cursor() as cur:
        cur.execute("CHECKSUM TABLE omdb")
        checksum = cur.fetchone()
        cur.execute("SHOW TABLES")
        return checksum, cur.fetchall()


@pytest.fixture(scope="module")
def maria_query(mariadb_server: MariaDB):  # noqa: F811
    return make_query_sql(mariadb_server.url, max_rows=20, timeout_s=1)


@pytest.mark.server
def test_mariadb_reads_typed_rows(maria_query) -> None:
    assert {"Title": "Inception"} in maria_query(sql=NOLAN)["rows"]
    row = maria_query(sql="SELECT Title, Year, Released, Runtime FROM omdb WHERE Title = 'Inception'")["rows"][0]
    assert row == {"Title": "Inception", "Year": 2010, "Released": "2010-07-08", "Runtime": 148.0}


@pytest.mark.server
def test_mariadb_show_describe_explain(maria_query) -> None:
    assert maria_query(sql="SHOW TABLES")["rows"] == [{"Tables_in_movies": "omdb"}]
    assert "Director" in [r["Field"] for r in maria_query(sql="DESCRIBE omdb")["rows"]]
    assert maria_query(sql="EXPLAIN SELECT * FROM omdb WHERE ID = 1")["row_count"] == 1


@pytest.mark.server
def test_mariadb_limit_unknown_table_and_timeout(maria_query) -> None:
    assert maria_query(sql="SELECT ID FROM omdb")["truncated"] is True
    with pytest.raises(ToolError, match=r"doesn't exist.*omdb\(ID, Title"):
        maria_query(sql="SELECT * FROM films")
    with pytest.raises(ToolError, match="longer than 1 s"):
        maria_query(sql="SELECT count(*) FROM omdb a, omdb b, omdb c WHERE a.Title < b.Title")


@pytest.mark.server
@pytest.mark.parametrize("sql", WRITES + MYSQL_WRITES)
def test_mariadb_writes_are_refused_by_the_parser(mariadb_server: MariaDB, maria_query, sql: str) -> None:  # noqa: F811
    before = mariadb_state(mariadb_server)
    with pytest.raises(ToolError, match="read-only|SQL syntax error"):  # "load_extension"(…) is a string in MySQL
        maria_query(sql=sql)
    assert mariadb_state(mariadb_server) == before


@pytest.mark.server
@pytest.mark.parametrize("sql", LAYER2[:-1] + ["TRUNCATE TABLE omdb", "RENAME TABLE omdb TO films"])
def test_mariadb_session_itself_is_read_only(mariadb_server: MariaDB, sql: str) -> None:  # noqa: F811
    # 'reader' holds ALL on movies.*, so only SET SESSION TRANSACTION READ ONLY stops this
    before = mariadb_state(mariadb_server)
    engine = make_engine(mariadb_server.url)
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="READ ONLY"):
        conn.exec_driver_sql(sql)
    engine.dispose()
    assert mariadb_state(mariadb_server) == before


@pytest.mark.server
def test_mariadb_reader_could_write_without_read_only(mariadb_server: MariaDB) -> None:  # noqa: F811
    # proves that 'reader' may write, so the refusals above come from the read-only layers
    writer, before = make_query_sql(mariadb_server.url, read_only=False), mariadb_state(mariadb_server)
    writer(sql="INSERT INTO omdb (ID, Title) VALUES (-1, 'scratch')")
    assert mariadb_state(mariadb_server) != before
    writer(sql="DELETE FROM omdb WHERE ID = -1")
    assert mariadb_state(mariadb_server) == before
    # bound values: the driver's %s style, a literal % in the statement kept
    writer(sql="INSERT INTO omdb (ID, Title) VALUES (?, ?)", params=[-1, "100% O'Brien ?"])
    found = writer(sql="SELECT Title FROM omdb WHERE Title LIKE '100%' AND ID = ?", params=[-1])
    assert found["rows"] == [{"Title": "100% O'Brien ?"}]
    writer(sql="DELETE FROM omdb WHERE ID = ?", params=[-1])
    assert mariadb_state(mariadb_server) == before
