"""Run real bittensor (10.5.0 or 9.0.0) next to synapsegen, each in its own process, loopback only.

The test process never imports bittensor. This module keeps one isolated virtual environment per
bittensor release (``bittensor==10.5.0`` by default, ``BT9_VERSION`` for the 9.x interop; each
created once, cached, shared between parallel workers through a file lock) and runs the scripts in
``bt_side/`` there. The protocol with a script is JSON lines: requests on its stdin, answers on its
stdout, diagnostics on its stderr. Every function that runs a script takes ``version=`` (default
``BT_VERSION``).

Reusable by the benchmarks:

- :func:`ensure_bt_venv` returns the venv's python (creating the venv if needed);
- :func:`start_bt_axon` starts a real bittensor Axon streaming ``InteropStream`` (N tokens, K
  pieces per send) and returns a :class:`BtAxonServer` (``port``, ``hotkey``, ``stop()``);
- :class:`BtDendriteClient` drives a real bittensor Dendrite; :func:`bt_stream_stats` makes one
  streaming call with it and reports tokens received, tokens/s and time to first token.

Every wait has a timeout, and every process is killed on ``close()``/``stop()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..generator._generated import on_sys_path

BT_VERSION = "10.5.0"
# The oldest bittensor 9.x release that installs and runs here (docs/runtime.md, "bittensor 9.x").
BT9_VERSION = "9.0.0"
# The releases the interop matrix runs against (tests/interop/conftest.py, bt_version).
BT_MATRIX = (BT_VERSION, BT9_VERSION)
REPO_ROOT = Path(__file__).resolve().parents[2]
BT_SIDE_DIR = Path(__file__).resolve().parent / "bt_side"
LOOPBACK = "127.0.0.1"

VENV_ENV_VAR = "SYNAPSEGEN_BT_VENV"
SKIP_ENV_VAR = "SYNAPSEGEN_SKIP_INTEROP"
_MARKER_NAME = "synapsegen-bt-venv.json"
_EDITABLE_MARKER_NAME = "synapsegen-editable.json"
_VENV_CREATE_TIMEOUT_S = 180.0
_PIP_INSTALL_TIMEOUT_S = 900.0
_LOCK_TIMEOUT_S = 1200.0

DEFAULT_START_TIMEOUT_S = 60.0
DEFAULT_REPLY_TIMEOUT_S = 60.0
_STOP_GRACE_S = 5.0


class BtVenvError(RuntimeError):
    """The bittensor venv could not be created (no network, registry error, ...)."""


class BtScriptError(RuntimeError):
    """A bittensor-side script died, timed out or sent something that is not JSON."""


# --------------------------------------------------------------------------------------------
# The bittensor virtual environment
# --------------------------------------------------------------------------------------------


def bt_venv_dir(version: str = BT_VERSION) -> Path:
    """Where the venv of bittensor ``version`` lives: ``<repo>/.cache/bt-<version>-venv``.

    ``$SYNAPSEGEN_BT_VENV`` overrides the folder of the default version (10.5.0).
    """
    configured = os.environ.get(VENV_ENV_VAR)
    if configured and version == BT_VERSION:
        return Path(configured).expanduser()
    return REPO_ROOT / ".cache" / f"bt-{version}-venv"


def version_as_int(version: str) -> int:
    """bittensor's ``version_as_int`` of a release: ``"10.5.0"`` -> 10005000, ``"9.0.0"`` ->
    9000000 (what its Dendrite sends as ``bt_header_dendrite_version``)."""
    major, minor, patch = (int(part) for part in version.split(".")[:3])
    return 1_000_000 * major + 1_000 * minor + patch


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def install_pins(version: str) -> tuple[str, ...]:
    """Requirements installed with ``bittensor==version`` so that it imports at all.

    Every 9.x release pins ``scalecodec`` but leaves ``async-substrate-interface`` open, and its 2.x
    series depends on ``cyscale``, which refuses to import beside ``scalecodec`` (RuntimeError
    "Conflict detected: 'scalecodec' (py-scale-codec) is installed" at ``import bittensor``).
    """
    major = version.split(".", 1)[0]
    return ("async-substrate-interface<2",) if major.isdigit() and int(major) < 10 else ()


def _wanted_marker(version: str, extra: tuple[str, ...]) -> dict[str, str]:
    # A venv is tied to the interpreter that made it: a different base python means a new venv.
    return {
        "bittensor": version,
        "extra": " ".join(sorted(extra)),
        "python": sys.version.split()[0],
        "base_executable": str(getattr(sys, "_base_executable", sys.executable)),
    }


def _marker_matches(venv: Path, version: str, extra: tuple[str, ...]) -> bool:
    marker = venv / _MARKER_NAME
    try:
        return bool(json.loads(marker.read_text()) == _wanted_marker(version, extra))
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, waiting at most ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BtVenvError(
                        f"timed out after {timeout:.0f} s waiting for the venv lock {path}"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_install_step(command: list[str], timeout: float, what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BtVenvError(f"{what} timed out after {timeout:.0f} s: {' '.join(command)}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        tail = "\n".join(output[-25:])
        raise BtVenvError(
            f"{what} failed (exit {done.returncode}): {' '.join(command)}\n{tail}\n"
            f"The interop tests need bittensor from the package registry. "
            f"Set {SKIP_ENV_VAR}=1 to skip them explicitly."
        )


def _pip_install(python: Path, *args: str, what: str) -> None:
    """``python -m pip install -q ARGS`` (quietly, no version check), as one install step."""
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    _run_install_step(command, _PIP_INSTALL_TIMEOUT_S, what)


_cached_pythons: dict[str, Path] = {}


def ensure_bt_venv(version: str = BT_VERSION, *extra: str) -> Path:
    """Return the python of a venv holding ``bittensor==version``, creating it on first use.

    ``extra`` names more requirements installed with it (e.g. a server library for a script);
    :func:`install_pins` of the version are always added.
    Reuses the venv when its marker names the same bittensor version and base interpreter.
    Parallel callers serialize on a lock file beside the venv. Raises :class:`BtVenvError` with
    the installer's output if the install fails.
    """
    extra = (*install_pins(version), *extra)
    cached = _cached_pythons.get(version)
    if cached is not None:
        return cached
    venv = bt_venv_dir(version)
    python = _venv_python(venv)
    with _file_lock(venv.parent / f"{venv.name}.lock", _LOCK_TIMEOUT_S):
        if not (_marker_matches(venv, version, extra) and python.exists()):
            if venv.exists():
                # Stale or half-made: start over, but never delete a folder that is no venv.
                if any(venv.iterdir()) and not (venv / "pyvenv.cfg").exists():
                    raise BtVenvError(
                        f"{venv} exists and is not a virtual environment; point "
                        f"{VENV_ENV_VAR} at a new or venv folder"
                    )
                shutil.rmtree(venv)
            _run_install_step(
                [sys.executable, "-m", "venv", str(venv)], _VENV_CREATE_TIMEOUT_S, "venv creation"
            )
            requirement = f"bittensor=={version}"
            _pip_install(python, requirement, *extra, what=f"pip install {requirement}")
            (venv / _MARKER_NAME).write_text(json.dumps(_wanted_marker(version, extra)))
    _cached_pythons[version] = python
    return python


def ensure_synapsegen_in_bt_venv(version: str = BT_VERSION) -> Path:
    """Also install this repository (editable, without dependencies) into the bittensor venv.

    Generated modules for ``--runtime bittensor`` import helpers from ``synapsegen.runtime``, so
    the bittensor side needs the package too. Reinstalled when the venv was made for another
    checkout (the marker records the repository path). Returns the venv's python.
    """
    python = ensure_bt_venv(version)
    venv = bt_venv_dir(version)
    marker = venv / _EDITABLE_MARKER_NAME
    wanted = {"repo": str(REPO_ROOT)}
    with _file_lock(venv.parent / f"{venv.name}.lock", _LOCK_TIMEOUT_S):
        try:
            current = json.loads(marker.read_text())
        except (OSError, ValueError):
            current = None
        if current != wanted:
            _pip_install(
                python,
                "--no-deps",
                "-e",
                str(REPO_ROOT),
                what="pip install --no-deps -e <repo> into the bittensor venv",
            )
            marker.write_text(json.dumps(wanted))
    return python


# --------------------------------------------------------------------------------------------
# Running a bittensor-side script
# --------------------------------------------------------------------------------------------


def _script_env(home: Path, extra_pythonpath: list[Path]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(
        HOME=str(home),
        BT_NO_PARSE_CLI_ARGS="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(path) for path in extra_pythonpath)
    return env


class BtScript:
    """One ``bt_side`` script running in the bittensor venv, spoken to in JSON lines.

    Use it as a context manager, or call :meth:`close` (it always ends the process).
    """

    def __init__(
        self,
        script: str,
        args: list[str] | None = None,
        *,
        extra_pythonpath: list[Path] | None = None,
        version: str = BT_VERSION,
    ) -> None:
        python = ensure_bt_venv(version)
        self.name = script
        self.version = version
        self._home = Path(tempfile.mkdtemp(prefix="bt-home-"))
        self._stderr_path = self._home / "stderr.log"
        self._stderr: IO[bytes] = open(self._stderr_path, "wb")  # noqa: SIM115 (closed in close)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [str(python), str(BT_SIDE_DIR / script), *(args or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(BT_SIDE_DIR),
            env=_script_env(self._home, extra_pythonpath or []),
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines the script wrote to stderr (for error messages)."""
        try:
            text = self._stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, what: str) -> BtScriptError:
        return BtScriptError(
            f"{self.name}: {what} (exit code {self.process.poll()})\n"
            f"--- stderr tail ---\n{self.stderr_tail()}"
        )

    def receive(self, timeout: float = DEFAULT_REPLY_TIMEOUT_S) -> dict[str, Any]:
        """The next JSON line from the script; raises BtScriptError on timeout, death or junk."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._fail(f"no answer within {timeout:.0f} s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._lines.put(None)  # keep reporting the end to later calls
                raise self._fail("exited before answering")
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                raise self._fail(f"sent a line that is not JSON: {line!r}") from None
            if not isinstance(message, dict):
                raise self._fail(f"sent JSON that is not an object: {line!r}")
            return message

    def send(self, message: dict[str, Any]) -> None:
        """Write one JSON line to the script's stdin."""
        if self.process.stdin is None or self.process.poll() is not None:
            raise self._fail("is not running")
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self._fail("closed its stdin") from None

    def request(
        self, message: dict[str, Any], timeout: float = DEFAULT_REPLY_TIMEOUT_S
    ) -> dict[str, Any]:
        """Send one request line and return the answer line."""
        self.send(message)
        return self.receive(timeout)

    def close(self) -> None:
        """End the script: close its stdin, wait briefly, then kill it. Safe to call twice."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                if self.process.stdin is not None:
                    self.process.stdin.close()
            try:
                self.process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=_STOP_GRACE_S)
        with contextlib.suppress(OSError):
            if self.process.stdout is not None:
                self.process.stdout.close()
        self._stderr.close()
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> BtScript:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# A real bittensor Axon
# --------------------------------------------------------------------------------------------


@dataclass
class BtAxonServer:
    """A running bittensor Axon (in its own process) serving the interop synapses."""

    port: int
    hotkey: str
    script: BtScript
    ip: str = LOOPBACK

    def stop(self) -> None:
        """Stop the axon process (kills it if it does not exit within a few seconds)."""
        self.script.close()

    def stderr_tail(self, lines: int = 40) -> str:
        """The axon's recent log lines (bittensor logs errors such as forward exceptions here)."""
        return self.script.stderr_tail(lines)

    def __enter__(self) -> BtAxonServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _serving(script: BtScript, timeout: float) -> BtAxonServer:
    """The axon an axon script serves once it printed its ready line (the script is closed if
    it fails or takes longer than ``timeout``)."""
    try:
        ready = script.receive(timeout)
        return BtAxonServer(port=int(ready["ready"]), hotkey=str(ready["hotkey"]), script=script)
    except BaseException:
        script.close()
        raise


def start_bt_axon(
    batch_count: int = 1,
    *,
    send_interval: float = 0.0,
    timeout: float = DEFAULT_START_TIMEOUT_S,
    version: str = BT_VERSION,
) -> BtAxonServer:
    """Start a real bittensor Axon (``version``, 10.5.0 by default) on 127.0.0.1 (free port) in
    its own process.

    It serves ``InteropStream`` (streams ``n_tokens`` byte pieces of ``common.expected_text``,
    ``batch_count`` pieces per ASGI send, sleeping ``send_interval`` seconds between sends) and
    ``InteropEcho``; it blacklists the "other" test key. The caller must ``stop()`` it.
    """
    args = ["--batch-count", str(batch_count), "--send-interval", repr(send_interval)]
    return _serving(BtScript("axon_server.py", args, version=version), timeout)


def start_bt_generated_axon(
    package_dir: Path,
    served: list[str],
    *,
    timeout: float = DEFAULT_START_TIMEOUT_S,
    version: str = BT_VERSION,
) -> BtAxonServer:
    """Start a real bittensor Axon serving *generated* synapse classes.

    ``package_dir`` is put on the script's PYTHONPATH; each of ``served`` is ``MODULE:CLASS``
    (e.g. ``gen_bt.chat:ChatCompletion``), generated with ``--runtime bittensor``. A streaming
    class streams ``common.chat_tokens`` through its ``stream_response``; a plain one answers
    with ``respond(**common.availability_answer(tasks))``. Needs
    :func:`ensure_synapsegen_in_bt_venv`.
    """
    ensure_synapsegen_in_bt_venv(version)
    args = [argument for target in served for argument in ("--serve", target)]
    script = BtScript("generated_axon.py", args, extra_pythonpath=[package_dir], version=version)
    return _serving(script, timeout)


@contextlib.contextmanager
def generated_flavours(root: Path, schemas: list[Path], packages: dict[str, str]) -> Iterator[Path]:
    """Generate ``schemas`` once per runtime into ``root`` (``{package: runtime}``), with ``root``
    on ``sys.path`` while the block runs; the packages are forgotten afterwards."""
    for package, runtime in packages.items():
        command = [sys.executable, "-m", "synapsegen", *map(str, schemas), "-o",
                   str(root / package), "--runtime", runtime]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    with on_sys_path(root, forget=packages):
        yield root


# --------------------------------------------------------------------------------------------
# A real bittensor Dendrite
# --------------------------------------------------------------------------------------------


class BtDendriteClient:
    """A process holding real bittensor Dendrites; each request makes one or more calls.

    Result dicts carry ``status_code``/``status_message`` (dendrite side), ``axon_status_code``/
    ``axon_status_message``, ``completion``, ``chunks`` (or None), ``n_chunks``,
    ``first_chunk_s``, ``duration_s``, the final ``axon``/``dendrite`` TerminalInfo dumps, or
    ``error`` (a traceback) when the call itself raised. With ``capture_raw`` (a fresh Dendrite
    whose session records the exchange) ``raw`` holds ``status``, the ordered ``headers`` as
    [name, value] pairs and, for JSON answers, ``body``.

    A call may name a ``module`` (importable with ``extra_pythonpath``) holding the synapse class
    and give its constructor ``fields``, e.g. for classes generated with ``--runtime bittensor``.
    """

    def __init__(
        self,
        timeout: float = DEFAULT_START_TIMEOUT_S,
        *,
        extra_pythonpath: list[Path] | None = None,
        version: str = BT_VERSION,
    ) -> None:
        self.script = BtScript(
            "dendrite_client.py", extra_pythonpath=extra_pythonpath, version=version
        )
        try:
            ready = self.script.receive(timeout)
        except BaseException:
            self.script.close()
            raise
        self.bittensor_version = str(ready.get("version"))

    def calls(
        self,
        calls: list[dict[str, Any]],
        *,
        concurrent: bool = False,
        timeout: float = DEFAULT_REPLY_TIMEOUT_S,
    ) -> list[dict[str, Any]]:
        """Make the calls (sequentially, or all at once with ``concurrent``) and return results."""
        reply = self.script.request({"calls": calls, "concurrent": concurrent}, timeout)
        if "error" in reply:
            raise BtScriptError(f"dendrite client failed:\n{reply['error']}")
        results = reply["results"]
        assert isinstance(results, list)
        return results

    def call(
        self,
        *,
        port: int,
        hotkey: str,
        synapse: str,
        prompt: str = "",
        n_tokens: int = 1,
        ip: str = LOOPBACK,
        key: str = "validator",
        timeout: float = 12.0,
        fresh_dendrite: bool = False,
        keep_chunks: bool = True,
        capture_raw: bool = False,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT_S,
    ) -> dict[str, Any]:
        """One call with ``Dendrite.forward`` to the axon at ``ip:port`` (see class docstring)."""
        spec = {
            "target": {"ip": ip, "port": port, "hotkey": hotkey},
            "synapse": synapse,
            "prompt": prompt,
            "n_tokens": n_tokens,
            "key": key,
            "timeout": timeout,
            "fresh_dendrite": fresh_dendrite,
            "keep_chunks": keep_chunks,
            "capture_raw": capture_raw,
        }
        return self.calls([spec], timeout=reply_timeout)[0]

    def close(self) -> None:
        """End the client process."""
        self.script.close()

    def __enter__(self) -> BtDendriteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class StreamStats:
    """What one streaming call delivered, measured inside the client process."""

    status_code: int | None
    tokens_expected: int
    tokens_received: int
    completion_ok: bool
    chunks: int
    duration_s: float
    first_token_s: float | None

    @property
    def tokens_per_s(self) -> float:
        """Complete tokens received per second of call time (0 when nothing arrived)."""
        return self.tokens_received / self.duration_s if self.duration_s > 0 else 0.0


def bt_stream_stats(
    client: BtDendriteClient,
    *,
    port: int,
    hotkey: str,
    n_tokens: int,
    ip: str = LOOPBACK,
    prompt: str = "bench",
    timeout: float = 60.0,
) -> StreamStats:
    """Stream ``n_tokens`` tokens from the axon at ``ip:port`` with a real bittensor Dendrite.

    The server must stream ``InteropStream`` the interop way (bittensor's via
    :func:`start_bt_axon`, or synapsegen's). Tokens are counted in the received text.
    """
    from .bt_side.common import STREAM_SYNAPSE, count_tokens, expected_text

    result = client.call(
        port=port,
        hotkey=hotkey,
        ip=ip,
        synapse=STREAM_SYNAPSE,
        prompt=prompt,
        n_tokens=n_tokens,
        timeout=timeout,
        keep_chunks=False,
        reply_timeout=timeout + 30.0,
    )
    if "error" in result:
        raise BtScriptError(f"bittensor dendrite call raised:\n{result['error']}")
    completion = result.get("completion") or ""
    return StreamStats(
        status_code=result["status_code"],
        tokens_expected=n_tokens,
        tokens_received=count_tokens(completion),
        completion_ok=completion == expected_text(prompt, n_tokens),
        chunks=int(result["n_chunks"]),
        duration_s=float(result["duration_s"]),
        first_token_s=result["first_chunk_s"],
    )
