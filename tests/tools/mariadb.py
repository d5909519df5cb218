"""A throw-away MariaDB server holding ``omdb`` from movies.db, for the SQL tool tests.

    apt-get install mariadb-server (only if mariadbd is missing)
        -> mariadb-install-db into a temporary datadir
        -> mariadbd on 127.0.0.1:<free port> (no system config: --no-defaults)
        -> database ``movies``, table ``omdb`` (a subset of columns, every Nolan film)
        -> user ``reader`` with ALL on movies.*, so only the read-only session stops writes

Import the fixture into a test module (``from mariadb import mariadb_server``); the
server is stopped at the end of the session, its datadir lives under pytest's tmp_path.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, stop, wait_until

PASSWORD = "reader-pw"
_ROWS = 2000  # plus every Christopher Nolan film, so the showcase query has its answer


@dataclass(frozen=True)
class MariaDB:
    """A running server: ``url`` connects as ``reader`` to the ``movies`` database."""

    url: str
    socket: Path

    def root_connect(self):  # noqa: ANN201 - pymysql is only imported here
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", database="movies", autocommit=True)


def _server_binary() -> str:
    for name in ("mariadbd", "mysqld"):
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin")  # sbin is not on every PATH
        if path:
            return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("MariaDB is not installed and apt-get (as root) is not available to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server"],
        check=True, capture_output=True, env=env, timeout=600,
    )  # fmt: skip
    return "/usr/sbin/mariadbd"


def _load_movies(conn, movies_db: Path) -> None:  # noqa: ANN001
    source = sqlite3.connect(f"file:{movies_db}?mode=ro", uri=True)
    rows = source.execute(
        "SELECT ID, Title, Year, Released, Director, Runtime, imdbRating FROM omdb "
        "WHERE ID IN (SELECT ID FROM omdb ORDER BY ID LIMIT ?) OR Director = 'Christopher Nolan'",
        (_ROWS,),
    ).fetchall()
    source.close()

    def as_date(text: str | None) -> str | None:
        try:
            return dt.date.fromisoformat(text).isoformat() if text else None
        except ValueError:
            return None

    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE omdb (ID INT PRIMARY KEY, Title TEXT, Year INT, Released DATE,"
            " Director TEXT, Runtime DECIMAL(6,1), imdbRating DECIMAL(3,1))"
        )
        cur.executemany(
            "INSERT INTO omdb VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(r[0], r[1], r[2], as_date(r[3]), r[4], r[5], r[6]) for r in rows],
        )


def _socket_answers(sock: Path):
    def ready() -> bool:
        # a plain socket, closed each time: a failed pymysql.connect leaks its socket (ResourceWarning)
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(sock))
                return True
            except OSError:
                return False

    return ready


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """Start MariaDB for the test session and stop it afterwards."""
    pymysql = pytest.importorskip("pymysql")
    from foreplan.tools.sql import movies_db_path

    server = _server_binary()
    root = tmp_path_factory.mktemp("mariadb")
    datadir, sock, port = root / "data", root / "mysqld.sock", free_port()
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    subprocess.run(
        [install, "--no-defaults", f"--datadir={datadir}", "--user=root", "--auth-root-authentication-method=normal",
         "--skip-test-db"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={datadir}", f"--socket={sock}", f"--port={port}",
         "--bind-address=127.0.0.1", "--user=root", f"--pid-file={root / 'mysqld.pid'}", "--skip-log-bin",
         "--innodb-buffer-pool-size=32M", f"--log-error={root / 'error.log'}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(_socket_answers(sock), proc, "MariaDB", root / "error.log", 60)
        conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
        with conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE movies CHARACTER SET utf8mb4")
            cur.execute("USE movies")
            cur.execute("SELECT User, Host FROM mysql.user WHERE User = ''")
            for _, host in cur.fetchall():  # an anonymous user would shadow 'reader'@'%'
                cur.execute(f"DROP USER ''@'{host}'")
            # ALL privileges on purpose: the grants do not stop a write, the read-only session must
            cur.execute(f"CREATE USER 'reader'@'%' IDENTIFIED BY '{PASSWORD}'")
            cur.execute("GRANT ALL ON movies.* TO 'reader'@'%'")
            _load_movies(conn, movies_db_path())
        yield MariaDB(f"mysql+pymysql://reader:{PASSWORD}@127.0.0.1:{port}/movies", sock)
    finally:
        stop(proc)
        log.close()
