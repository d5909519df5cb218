"""save_file writes only inside its workspace, whole or not at all.

The security corpus builds real links, loops and FIFOs in ``tmp_path`` and checks, for
every refused path, that nothing at all changed under ``tmp_path``: not the sibling
``outside`` folder, and not the workspace (no stray temp file, no half-made folder).
"""

from __future__ import annotations

import os
import resource
import signal
import stat
from pathlib import Path

import pytest

from foreplan.errors import ToolError
from foreplan.tools.files import check_path, make_save_file


def snapshot(top: Path) -> dict[str, object]:
    """Every entry under ``top``, links not followed: its kind and, for files, its bytes."""
    seen: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                seen[str(p.relative_to(top))] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                seen[str(p.relative_to(top))] = p.read_bytes()
            else:
                seen[str(p.relative_to(top))] = stat.S_IFMT(st.st_mode)
    return seen


def temp_files(top: Path) -> list[Path]:
    return [p for p in top.rglob("*") if p.name.startswith(".save_file-")]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """tmp_path/outside (must never change) and tmp_path/jail/ws full of traps."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    ws = tmp_path / "jail" / "ws"
    (ws / "sub" / "deeper").mkdir(parents=True)
    (ws / "existing.txt").write_text("old")
    (ws / "link_out").symlink_to(outside)
    (ws / "link_file").symlink_to(outside / "secret.txt")
    (ws / "link_in").symlink_to(ws / "sub")
    (ws / "link_in_file").symlink_to(ws / "existing.txt")
    (ws / "dangling").symlink_to(outside / "new.txt")
    (ws / "sub" / "rel_out").symlink_to(Path("..", "..", "..", "outside"))
    (ws / "loop").symlink_to("loop")
    (ws / "loop_a").symlink_to("loop_b")
    (ws / "loop_b").symlink_to("loop_a")
    os.mkfifo(ws / "fifo")
    return tmp_path


TRAVERSAL = [
    "../escape.txt", "../../escape.txt", "../../outside/secret.txt", "notes/../../escape.txt",
    "notes/../x.txt", "..", "../", "./../x", "x/..", "a/b/../../../outside/x", "sub/../../x",
    "..\\escape.txt", "notes\\..\\..\\x", "...", "..../x", " ../x",
]  # fmt: skip
ABSOLUTE = [
    "/etc/passwd", "/tmp/escape.txt", "//server/share/x", "/dev/null", "/../x", "C:\\Windows\\x",
    "C:/Windows/x", "c:x", "\\\\server\\share\\x", "\\\\?\\C:\\x", "\\x", "~/x", "file:///etc/passwd",
]  # fmt: skip
EMPTY = ["", ".", "./", "./.", "notes/", "   ", "sub/."]
CONTROL = ["a\x00b", "a\nb.txt", "tab\there", "\x1b[31mred", "del\x7f", "a\x85b", "cr\r"]
UNICODE = [
    "．．／escape.txt", "‥/escape.txt", "／etc／passwd", "notes＼..＼x", "﹒﹒/x", "︰/x",
    "\u202etxt.exe", "a\u200bb.txt", "\ufeffbom.txt", "a\u2028b", "x\u2066y", "\ud800.txt",
    "ｃｏｎ.txt", "COM¹", "a\u200d/../x",
]  # fmt: skip
WINDOWS = [
    "CON", "con.txt", "nul", "Aux.md", "prn.tar.gz", "COM1", "lpt9.log", "notes/CONIN$",
    "notes/NUL/x.txt", "name.", "name ", "dir./x", "a<b", "a>b", 'a"b', "a|b", "a?b", "a*b", "a:b",
]  # fmt: skip
LONG = ["a" * 256, "é" * 128, "/".join(["d" * 200] * 21), "x/" * 2100 + "x", "ok/" + "b" * 300 + ".txt"]
LINKS = [
    "link_out/escape.txt", "link_out/secret.txt", "link_file", "link_in/x.txt", "link_in_file",
    "dangling", "sub/rel_out/x.txt", "sub/rel_out", "loop", "loop/x", "loop_a/x", "link_out/new/x",
]  # fmt: skip
SPECIAL = ["fifo", "fifo/x", "sub", "sub/deeper", "existing.txt/child.txt"]
CORPUS = TRAVERSAL + ABSOLUTE + EMPTY + CONTROL + UNICODE + WINDOWS + LONG + LINKS + SPECIAL


@pytest.mark.parametrize("path", CORPUS, ids=[f"{i:02d}-{ascii(p)[1:30]}" for i, p in enumerate(CORPUS)])
def test_escape_attempt_is_refused_and_writes_nothing(world: Path, path: str) -> None:
    save_file = make_save_file(world / "jail" / "ws", overwrite=True)  # the stronger case
    before = snapshot(world)
    with pytest.raises(ToolError, match=r"^save_file refused .*; \w"):
        save_file(path=path, content="pwned")
    assert snapshot(world) == before
    assert (world / "outside" / "secret.txt").read_text() == "secret"


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 50


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("../x", r"'\.\.' would leave the workspace; use a relative path like notes/plan\.md"),
        ("/etc/passwd", "absolute paths and drive letters are not allowed"),
        ("C:\\x", "drive letters are not allowed"),
        ("a\\b", r"backslashes .*separate folders with /"),
        ("", "the path is empty"),
        ("./", "names a folder"),
        (".", "names the workspace folder itself"),
        ("a\x00b", "control or invisible character U\\+0000"),
        ("\u202etxt", "U\\+202E"),
        ("．．／x", "'..' would leave"),
        ("con.txt", "reserved on Windows"),
        ("a?", "not allowed in file names on Windows"),
        ("x.", "ends with a dot or space"),
        ("a" * 256, "longer than 255 bytes"),
        ("a/" * 2100, "longer than 4096 bytes"),
    ],
)
def test_refusals_say_what_is_wrong_and_what_to_do(path: str, match: str) -> None:
    with pytest.raises(ToolError, match=match):
        check_path(path)


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("link_out/x", "'link_out': it goes through a symbolic link"),
        ("link_in/x", "'link_in': it goes through a symbolic link"),
        ("link_file", "goes through a symbolic link"),
        ("fifo", "special file"),
        ("sub", "existing folder"),
        ("existing.txt/x", "'existing.txt': it is a file, not a folder"),
    ],
)
def test_filesystem_refusals_name_the_culprit(world: Path, path: str, match: str) -> None:
    with pytest.raises(ToolError, match=match):
        make_save_file(world / "jail" / "ws", overwrite=True)(path=path, content="x")


def test_saves_nested_file_creating_folders(tmp_path: Path) -> None:
    ws = tmp_path / "new" / "ws"  # the workspace itself is created too
    result = make_save_file(ws)(path="notes/2024/plan.md", content="# Plan\n")
    assert result == {"path": "notes/2024/plan.md", "bytes": 7}
    assert (ws / "notes" / "2024" / "plan.md").read_text() == "# Plan\n"
    assert temp_files(ws) == []


def test_returns_utf8_byte_count_and_normalised_path(tmp_path: Path) -> None:
    text = "héllo wörld ✓ 日本語 🎉"
    result = make_save_file(tmp_path)(path="./a//b/./café-ノート.txt", content=text)
    assert result == {"path": "a/b/café-ノート.txt", "bytes": len(text.encode())}
    assert (tmp_path / "a" / "b" / "café-ノート.txt").read_text(encoding="utf-8") == text


def test_look_alikes_that_fold_to_safe_names_are_written_as_given(tmp_path: Path) -> None:
    assert check_path("ｎｏｔｅｓ/ﬁle.txt") == ["ｎｏｔｅｓ", "ﬁle.txt"]  # NFKC: notes/file.txt, harmless
    make_save_file(tmp_path)(path="ｎｏｔｅｓ/ﬁle.txt", content="x")
    assert (tmp_path / "ｎｏｔｅｓ" / "ﬁle.txt").read_text() == "x"


def test_empty_content_and_dotfiles_are_fine(tmp_path: Path) -> None:
    assert make_save_file(tmp_path)(path=".env.example", content="") == {"path": ".env.example", "bytes": 0}
    assert (tmp_path / ".env.example").read_bytes() == b""


def test_new_file_mode_is_0644_less_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    make_save_file(tmp_path)(path="m.txt", content="x")
    assert stat.S_IMODE((tmp_path / "m.txt").stat().st_mode) == 0o644 & ~umask


def test_overwrite_refused_by_default(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("old")
    with pytest.raises(ToolError, match="already exists and overwriting is off; choose a new file name"):
        make_save_file(tmp_path)(path="keep.txt", content="new")
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert temp_files(tmp_path) == []


def test_overwrite_allowed_when_enabled(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("old")
    assert make_save_file(tmp_path, overwrite=True)(path="keep.txt", content="new!") == {"path": "keep.txt", "bytes": 4}
    assert (tmp_path / "keep.txt").read_text() == "new!"
    assert temp_files(tmp_path) == []


def test_overwriting_a_hard_link_replaces_the_name_not_the_shared_file(tmp_path: Path) -> None:
    outside, ws = tmp_path / "outside.txt", tmp_path / "ws"
    ws.mkdir()
    outside.write_text("secret")
    os.link(outside, ws / "hard.txt")
    make_save_file(ws, overwrite=True)(path="hard.txt", content="new")
    assert outside.read_text() == "secret"
    assert (ws / "hard.txt").read_text() == "new"


def test_content_over_the_limit_is_refused(tmp_path: Path) -> None:
    save_file = make_save_file(tmp_path / "ws", max_bytes=10)
    assert save_file(path="ok.txt", content="0123456789")["bytes"] == 10
    with pytest.raises(ToolError, match="over the 10-byte limit"):
        save_file(path="big.txt", content="01234567890")
    with pytest.raises(ToolError, match="12 bytes, over the 10-byte limit"):
        save_file(path="big.txt", content="éééééé")  # 6 characters, 12 bytes
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == ["ok.txt"]


def test_lone_surrogate_content_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="lone surrogate"):
        make_save_file(tmp_path)(path="x.txt", content="a\ud800b")
    assert list(tmp_path.iterdir()) == []


def test_workspace_may_itself_be_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "ws").symlink_to(tmp_path / "real")
    make_save_file(tmp_path / "ws")(path="x.txt", content="x")
    assert (tmp_path / "real" / "x.txt").read_text() == "x"


def test_failure_midway_leaves_old_file_and_no_temp_file(tmp_path: Path) -> None:
    # A real short write: the kernel refuses to grow any file past RLIMIT_FSIZE (EFBIG),
    # which even root cannot bypass, unlike a read-only folder.
    (tmp_path / "keep.txt").write_text("old")
    save_file = make_save_file(tmp_path, overwrite=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
    try:
        with pytest.raises(ToolError, match="could not save 'keep.txt': File too large"):
            save_file(path="keep.txt", content="x" * 5000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert temp_files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_leaves_old_file_and_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("old")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ToolError, match="could not save 'keep.txt': Permission denied"):
            make_save_file(tmp_path, overwrite=True)(path="keep.txt", content="new")
    finally:
        tmp_path.chmod(0o755)
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert temp_files(tmp_path) == []


def test_tool_metadata(tmp_path: Path) -> None:
    save_file = make_save_file(tmp_path)
    assert save_file.name == "save_file"
    assert save_file.side_effects is True
    assert set(save_file.parameters["properties"]) == {"path", "content"}
    assert "bytes" in save_file.returns
