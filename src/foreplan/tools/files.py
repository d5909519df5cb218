"""save_file: the one tool that writes to disk, fenced into a workspace folder.

The path comes from a model, so it is treated as hostile. It is checked as text first
(pure, no disk access), then walked one folder at a time with file descriptors so that
nothing can swap a folder for a symbolic link between the check and the write:

    path text ─ check_path ─> parts ─ openat(O_NOFOLLOW) per folder ─> temp file
              (twice: as given,          (mkdir what is missing,      (O_EXCL, fsync)
               and NFKC-normalised)       refuse links and files)          │
                                    os.link (no overwrite) / os.replace <──┘

The text checks refuse absolute and Windows paths, ``..``, control and invisible
characters, names Windows cannot hold, over-long names, and the same again after NFKC
folds look-alikes (``．．／`` is ``../``). Every symbolic link on the way is refused, even
one that points inside the workspace. The file appears whole or not at all: a crash or
error leaves the old file, if any, untouched and no temp file behind.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import unicodedata
from pathlib import Path

from foreplan.errors import ToolError
from foreplan.tools.tool import Tool, tool

MAX_COMPONENT_BYTES = 255  # NAME_MAX on ext4, XFS, APFS, NTFS (in UTF-16 units there)
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux
_HINT = "use a relative path like notes/plan.md inside the workspace"
# Unicode categories never wanted in a file name: controls (Cc: NUL, newline, ESC, C1),
# format characters (Cf: zero-width space, RTL override U+202E, BOM), surrogates,
# private use, and line/paragraph separators.
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_WINDOWS_INVALID = set('<>:"|?*\\')
# Device names that Windows reserves in every folder, with or without an extension
# (learn.microsoft.com "Naming Files, Paths, and Namespaces"; ¹²³ count as digits there).
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$|CLOCK\$)", re.IGNORECASE)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_HAS_DIR_FD = {os.open, os.mkdir, os.stat, os.link, os.rename, os.unlink} <= os.supports_dir_fd


def _refuse(path: str, problem: str, advice: str = _HINT) -> ToolError:
    return ToolError(f"save_file refused {path[:120]!r}: {problem}; {advice}")


def _check_chars(text: str, shown: str) -> None:
    for ch in text:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise _refuse(shown, f"it contains the control or invisible character U+{ord(ch):04X}", "remove it")


def _check_parts(text: str, shown: str) -> list[str]:
    """Split one spelling of the path into components and check each; pure."""
    if text.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", text):
        raise _refuse(shown, "absolute paths and drive letters are not allowed")
    if "\\" in text:
        raise _refuse(shown, "backslashes are not allowed", "separate folders with / as in notes/plan.md")
    if text.endswith("/"):
        raise _refuse(shown, "it names a folder, not a file", "end the path with a file name")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts:
        raise _refuse(shown, "it names the workspace folder itself, not a file")
    if parts[0] == "~":
        raise _refuse(shown, "home-folder paths (~) are not expanded")
    for part in parts:
        if part == "..":
            raise _refuse(shown, "'..' would leave the workspace")
        if len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
            raise _refuse(shown, f"a name is longer than {MAX_COMPONENT_BYTES} bytes", "use a shorter name")
        if bad := sorted(set(part) & _WINDOWS_INVALID):
            raise _refuse(shown, f"{''.join(bad)!r} is not allowed in file names on Windows", "use - or _ instead")
        if part[-1] in ". ":
            raise _refuse(shown, f"{part!r} ends with a dot or space, which Windows drops", "remove it")
        if _RESERVED.fullmatch(part.split(".")[0].rstrip(" ")):
            raise _refuse(shown, f"{part!r} is a device name reserved on Windows", "choose another name")
    return parts


def check_path(path: str) -> list[str]:
    """Check a path the model gave, without touching the disk.

    Args:
        path: the path as the model wrote it.

    Returns:
        The path's components (``.`` and empty ones dropped), in the spelling given.

    Raises:
        ToolError: the path is empty, absolute, uses ``..`` or backslashes, holds control
            or invisible characters, a Windows-invalid or reserved name, or a name or
            whole path that is too long, as given or after NFKC normalisation.
    """
    if not path.strip():
        raise _refuse(path, "the path is empty")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise _refuse(path, f"the path is longer than {MAX_PATH_BYTES} bytes", "use a shorter path")
    _check_chars(path, path)
    parts = _check_parts(path, path)
    # NFKC folds look-alikes into what a filesystem or a later tool may take them for:
    # fullwidth '．．／' is '../', '‥' is '..', 'ｃｏｎ' is 'con', 'COM¹' is 'COM1'.
    folded = unicodedata.normalize("NFKC", path)
    if folded != path:
        _check_chars(folded, path)
        _check_parts(folded, path)
    return parts


def _describe(st: os.stat_result) -> str | None:
    """Why an existing entry cannot be written through or replaced; None if it can."""
    if stat.S_ISLNK(st.st_mode):
        return "it goes through a symbolic link, which could lead outside the workspace"
    if stat.S_ISDIR(st.st_mode):
        return "it is an existing folder"
    if not stat.S_ISREG(st.st_mode):
        return "it is a special file (FIFO, socket or device)"
    return None


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _enter(parent: int, name: str, shown: str, sub: str) -> int:
    """Open the folder ``name`` under ``parent``, creating it if missing; never via a link."""
    st = _lstat(name, parent)
    if st is None:
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:  # created meanwhile; O_NOFOLLOW below still guards it
            pass
    elif not stat.S_ISDIR(st.st_mode):
        why = "it is a file, not a folder" if stat.S_ISREG(st.st_mode) else _describe(st)
        raise _refuse(shown, f"{sub!r}: {why}", "choose another path")
    return os.open(name, _DIR_FLAGS, dir_fd=parent)


def _write_new(folder: int, data: bytes) -> str:
    """Write ``data`` to a fresh temp file in ``folder`` and flush it to disk."""
    tmp = f".save_file-{secrets.token_hex(8)}.tmp"  # short: the target name may use all 255 bytes
    fd = os.open(tmp, _NEW_FILE_FLAGS, 0o644, dir_fd=folder)
    try:
        view = memoryview(data)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.unlink(tmp, dir_fd=folder)
        raise
    finally:
        os.close(fd)
    return tmp


def _commit(folder: int, tmp: str, name: str, shown: str, overwrite: bool) -> None:
    """Move the temp file into place; afterwards the temp name is gone, whatever happened."""
    try:
        if overwrite:
            os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            return
        try:  # link() fails if the name exists, so a file created meanwhile is never clobbered
            os.link(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except FileExistsError as exc:
            raise _refuse(shown, "a file of that name appeared meanwhile", "choose another name") from exc
        except OSError as exc:  # no hard links here (FAT, some network filesystems): re-check, rename
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP) or _lstat(name, folder) is not None:
                raise
            os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            return
    except BaseException:
        os.unlink(tmp, dir_fd=folder)
        raise
    os.unlink(tmp, dir_fd=folder)


def _save(root: Path, parts: list[str], data: bytes, shown: str, overwrite: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    # The workspace itself is configuration, so it may be (or sit under) a link.
    fds = [os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))]
    try:
        for i, name in enumerate(parts[:-1]):
            fds.append(_enter(fds[-1], name, shown, "/".join(parts[: i + 1])))
        folder, name = fds[-1], parts[-1]
        st = _lstat(name, folder)
        if st is not None and (why := _describe(st)):
            raise _refuse(shown, why, "choose another file name")
        if st is not None and not overwrite:
            raise _refuse(shown, "the file already exists and overwriting is off", "choose a new file name")
        tmp = _write_new(folder, data)
        _commit(folder, tmp, name, shown, overwrite)
        try:
            os.fsync(folder)  # make the new name itself durable
        except OSError:  # some filesystems cannot fsync a folder; the data is already safe
            pass
    finally:
        for fd in fds:
            os.close(fd)


def make_save_file(workspace: Path, *, overwrite: bool = False, max_bytes: int = 1_000_000) -> Tool:
    """Build the ``save_file`` tool for one workspace folder.

    Args:
        workspace: the folder files go in; created on the first save if missing.
        overwrite: whether an existing file may be replaced.
        max_bytes: the largest content accepted, in UTF-8 bytes.

    Returns:
        A :class:`Tool` named ``save_file`` with side effects.
    """
    root = Path(workspace).expanduser().absolute()  # fixed now: a later chdir must not move it

    def save_file(path: str, content: str) -> dict:
        """Save text to a file in the workspace folder, creating folders as needed.

        Args:
            path: relative path inside the workspace, e.g. notes/plan.md (no absolute paths or '..').
            content: the text to write, saved as UTF-8.

        Returns:
            path (the saved file's path relative to the workspace), bytes (UTF-8 bytes written).
        """
        parts = check_path(path)
        if len(content) > max_bytes:  # UTF-8 never has fewer bytes than characters
            raise _refuse(path, f"the content is over the {max_bytes}-byte limit", "save less text")
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _refuse(path, "the content holds a lone surrogate, not text", "send valid Unicode") from exc
        if len(data) > max_bytes:
            raise _refuse(path, f"the content is {len(data)} bytes, over the {max_bytes}-byte limit", "save less text")
        if not _HAS_DIR_FD:
            raise ToolError("save_file needs a system with openat() (Linux, macOS, BSD); it cannot run here")
        try:
            _save(root, parts, data, path, overwrite)
        except OSError as exc:
            raise ToolError(f"could not save {path[:120]!r}: {exc.strerror or exc}. Please try another path.") from exc
        return {"path": "/".join(parts), "bytes": len(data)}

    return tool(save_file, name="save_file", timeout=10, side_effects=True, sensitive=("path",))
