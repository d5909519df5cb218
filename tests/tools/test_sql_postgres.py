"""query_sql against a real PostgreSQL server: reads work, every write is refused at both layers.

The fixture starts a throw-away cluster the way tests/tools/mariadb.py starts MariaDB:

    initdb (as an unprivileged user: postgres refuses to run as root) into a temp dir
        -> postgres on 127.0.0.1:<free port>, socket in the data dir, no system config
        -> database ``movies``, table ``omdb`` (every Nolan film and 2000 others)
        -> role ``reader`` that owns omdb, so only the read-only session stops writes

It skips only when no PostgreSQL binaries exist or no unprivileged user can run them.
The driver is pg8000 (pure Python); the statements come from test_sql.py's corpora.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from servers import free_port, stop, wait_until
from test_sql import LAYER2, NOLAN, WRITES

from foreplan.errors import ToolError
from foreplan.tools.sql import make_engine, make_query_sql, movies_db_path

pytestmark = pytest.mark.server
SUPERUSER_PW, READER_PW = "super-pw", "reader-pw"
_BINDIRS = ("/usr/local/bin", "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def _binary(name: str) -> str | None:
    return shutil.which(name) or next((f"{d}/{name}" for d in _BINDIRS if os.path.exists(f"{d}/{name}")), None)


def _as_user() -> list[str]:
    """The command prefix that drops root (``runuser -u postgres --``), or none when not root."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", user, "--"]
    pytest.skip("running as root and no unprivileged user (postgres, nobody) with runuser to start PostgreSQL")


def _load_movies(url: str) -> None:
    source = sqlite3.connect(f"file:{movies_db_path()}?mode=ro", uri=True)
    rows = source.execute(
        "SELECT ID, Title, Year, Director, Runtime, imdbRating FROM omdb "
        "WHERE ID IN (SELECT ID FROM omdb ORDER BY ID LIMIT 2000) OR Director = 'Christopher Nolan'"
    ).fetchall()
    source.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
        conn.exec_driver_sql(
            'CREATE TABLE omdb ("ID" INT PRIMARY KEY, "Title" TEXT, "Year" INT, "Director" TEXT,'
            ' "Runtime" NUMERIC(6,1), "imdbRating" NUMERIC(3,1))'
        )
        conn.execute(sa.text("INSERT INTO omdb VALUES (:i, :t, :y, :d, :r, :m)"),
                     [dict(zip("itydrm", r, strict=True)) for r in rows])
        # the owner may do anything to the table: the read-only session is what stops writes
        conn.exec_driver_sql("ALTER TABLE omdb OWNER TO reader")
        conn.exec_driver_sql("GRANT CREATE ON SCHEMA public TO reader")
    engine.dispose()


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """Start PostgreSQL for this module; yields the URL that connects as ``reader``."""
    pytest.importorskip("pg8000")
    initdb, server = _binary("initdb"), _binary("postgres")
    if not (initdb and server):
        pytest.skip("PostgreSQL is not installed (no initdb/postgres binaries)")
    prefix = _as_user()
    root = Path(tempfile.mkdtemp(prefix="foreplan-pg-"))  # not pytest's tmp: the other user must reach it
    (root / "pw").write_text(SUPERUSER_PW)
    if prefix:
        uid = pwd.getpwnam(prefix[2])
        os.chown(root, uid.pw_uid, uid.pw_gid)
        os.chown(root / "pw", uid.pw_uid, uid.pw_gid)
    data, port = root / "data", free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", f"--pwfile={root / 'pw'}",
                    "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    log = root / "server.log"
    with log.open("wb") as log_file:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [*prefix, server, "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={data}", "-c", "fsync=off", "-c", "shared_buffers=16MB"],
            stdout=subprocess.DEVNULL, stderr=log_file,
        )  # fmt: skip
    try:
        def ready() -> bool:
            probe = [_binary("pg_isready") or "pg_isready", "-h", "127.0.0.1", "-p", str(port)]
            return subprocess.run(probe, capture_output=True, check=False).returncode == 0

        wait_until(ready, proc, "PostgreSQL", log, 60)
        base = f"postgresql+pg8000://postgres:{SUPERUSER_PW}@127.0.0.1:{port}"
        engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE movies")
        engine.dispose()
        _load_movies(f"{base}/movies")
        yield f"postgresql+pg8000://reader:{READER_PW}@127.0.0.1:{port}/movies"
    finally:
        stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def table_state(url: str) -> tuple:
    engine = sa.create_engine(url.replace("reader:reader-pw", f"postgres:{SUPERUSER_PW}"))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql('SELECT md5(string_agg(omdb::text, \'|\' ORDER BY "ID")) FROM omdb').all()
        tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").all()
        columns = conn.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'omdb'").all()
    engine.dispose()
    return rows, sorted(tables), columns


@pytest.fixture(scope="module")
def pg_query(postgres: str) -> Iterator:
    query = make_query_sql(postgres, max_rows=20, timeout_s=1)
    yield query
    query.close()  # pg8000 sockets left to the garbage collector are ResourceWarnings


def test_postgres_reads_typed_rows(pg_query) -> None:
    assert {"Title": "Inception"} in pg_query(sql=NOLAN.replace("Title", '"Title"').replace("Director", '"Director"'))["rows"]
    row = pg_query(sql='SELECT "Title", "Year", "Runtime" FROM omdb WHERE "Title" = \'Inception\'')["rows"][0]
    assert row == {"Title": "Inception", "Year": 2010, "Runtime": 148.0}
    assert pg_query(sql="SELECT \"Title\" FROM omdb WHERE \"Title\" LIKE 'Incep%'")["rows"] == [{"Title": "Inception"}]
    assert pg_query(sql='EXPLAIN SELECT * FROM omdb WHERE "ID" = 1')["row_count"] >= 1


def test_postgres_limit_unknown_table_and_timeout(pg_query) -> None:
    assert pg_query(sql='SELECT "ID" FROM omdb')["truncated"] is True
    with pytest.raises(ToolError, match=r"does not exist.*omdb\(ID, Title"):
        pg_query(sql="SELECT * FROM films")
    with pytest.raises(ToolError, match="longer than 1 s"):  # stopped: pg_sleep(5) would return
        pg_query(sql="SELECT pg_sleep(5)")


@pytest.mark.parametrize("sql", WRITES)
def test_postgres_writes_are_refused_by_the_parser(postgres: str, pg_query, sql: str) -> None:
    before = table_state(postgres)
    with pytest.raises(ToolError, match="read-only|SQL syntax error"):  # `backquoted` is no PostgreSQL name
        pg_query(sql=sql)
    assert table_state(postgres) == before


PG_LAYER2 = [s for s in LAYER2 if s != "VACUUM"] + [
    "TRUNCATE TABLE omdb", "ALTER TABLE omdb RENAME TO films", "CREATE TEMP TABLE t AS SELECT 1",
    "SELECT nextval('s')", "WITH x AS (DELETE FROM omdb RETURNING *) SELECT * FROM x",
    "SELECT * FROM omdb FOR UPDATE",
]  # fmt: skip


@pytest.mark.parametrize("sql", PG_LAYER2)
def test_postgres_session_itself_is_read_only(postgres: str, sql: str) -> None:
    # 'reader' owns omdb, so only the read-only session (not the grants) stops these
    before = table_state(postgres)
    engine = make_engine(postgres)
    with engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction|does not exist"):
            conn.exec_driver_sql(sql)  # nextval('s'): no such sequence either way
        conn.rollback()
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
    engine.dispose()
    assert table_state(postgres) == before


def test_postgres_session_setting_is_undone_by_the_rollback(postgres: str) -> None:
    # set_config is refused by the parser; were it to run, query_sql's rollback undoes it
    engine = make_engine(postgres)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT set_config('default_transaction_read_only', 'off', false)")
        conn.rollback()
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            conn.exec_driver_sql("DELETE FROM omdb")
    engine.dispose()


def test_postgres_reader_could_write_without_read_only(postgres: str) -> None:
    # proves that 'reader' may write, so the refusals above come from the read-only layers
    writer, before = make_query_sql(postgres, read_only=False), table_state(postgres)
    writer(sql="INSERT INTO omdb (\"ID\", \"Title\") VALUES (-1, 'scratch')")
    assert table_state(postgres) != before
    writer(sql='DELETE FROM omdb WHERE "ID" = -1')
    assert table_state(postgres) == before
    # bound values: pg8000's %s style, a literal % in the statement kept
    writer(sql='INSERT INTO omdb ("ID", "Title") VALUES (?, ?)', params=[-1, "100% O'Brien ?"])
    found = writer(sql='SELECT "Title" FROM omdb WHERE "Title" LIKE \'100%\' AND "ID" = ?', params=[-1])
    assert found["rows"] == [{"Title": "100% O'Brien ?"}]
    writer(sql='DELETE FROM omdb WHERE "ID" = ?', params=[-1])
    writer.close()
    assert table_state(postgres) == before


def test_postgres_connection_refused_is_a_tool_error() -> None:
    query = make_query_sql(f"postgresql+pg8000://u:secret@127.0.0.1:{free_port()}/x", timeout_s=2)
    with pytest.raises(ToolError, match=r"could not connect to postgresql\+pg8000://u:\*\*\*@127.0.0.1"):
        query(sql="SELECT 1")
