"""The README runs: every ``console`` block of README.md, in order, in one shell session in a
temporary folder, so a command that changes without its README line fails.

- ``$ `` starts a command; a line ending in ``\\`` or an open quote continues it; other lines
  are its expected output. Expected output starting with ``error:`` means exit 2 with that
  line on stderr; anything else means exit 0.
- The session is a temporary folder with ``.venv`` and ``examples/`` linked in, ``photo.jpg``,
  ``photos/*.jpg`` and ``../shared/corpus`` made from the test corpus (or drawn, without it).
  ``/srv/isrender`` becomes a temporary data directory, port 8080 a free port, and the bench's
  ``--duration 10`` one second: the only rewrites.
- ``isrender serve`` and ``isrender jobs worker`` run until stopped: they start in the
  background (serve: until /healthz answers) and stop at the end.
- ``curl`` lines are checked for their status: the ``# NNN`` their comment starts with, else
  2xx/3xx (retried for a while: a job submitted just before may still be running).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.http_server import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
BACKGROUND = ("isrender serve", "isrender jobs worker")


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)

    @property
    def expected_status(self) -> range:
        """A curl line's status: its comment's leading number, else any 2xx or 3xx."""
        found = re.search(r"#\s*(\d{3})\b", self.command.rsplit("'", 1)[-1])
        return range(int(found[1]), int(found[1]) + 1) if found else range(200, 400)


def readme_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    for block in BLOCK.findall(text):
        pending = ""
        for line in block.splitlines():
            if pending:
                pending += "\n" + line
            elif line.startswith("$ "):
                pending = line[2:]
            else:
                steps[-1].expected.append(line)
                continue
            if not _complete(pending):
                continue
            steps.append(Step(pending))
            pending = ""
        assert not pending, f"unfinished README command: {pending}"
    return steps


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


class Session:
    """One shell session: exported variables carry over from command to command."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.work = root / "work"
        self.state = root / "environment.sh"
        self.background: list[subprocess.Popen[bytes]] = []
        path = f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin"
        self.state.write_text(
            f"export PATH={shlex.quote(path)} COLUMNS=200 HOME={shlex.quote(str(root))}\n"
            f"export ISRENDER_CONFIG={shlex.quote(str(root / 'absent.toml'))}\n"
        )

    def rewrite(self, command: str) -> str:
        return (
            command.replace("/srv/isrender", str(self.root / "data"))
            .replace("localhost:8080", f"127.0.0.1:{self.port}")
            .replace("--port 8080", f"--port {self.port}")
            .replace("--host 0.0.0.0", "--host 127.0.0.1")
            .replace("--duration 10", "--duration 1")
        )

    def script(self, command: str) -> str:
        return (
            f"set -a; . {shlex.quote(str(self.state))}; set +a; cd {shlex.quote(str(self.work))}\n"
            f"{command}\nstatus=$?\nexport -p > {shlex.quote(str(self.state))}\nexit $status\n"
        )

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", self.script(command)], capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip

    def start(self, command: str) -> None:
        log = (self.root / f"background-{len(self.background)}.log").open("wb")
        script = f"set -a; . {shlex.quote(str(self.state))}; set +a; cd {self.work}\n{command}"
        process = subprocess.Popen(["bash", "-c", script], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.background.append(process)
        if "isrender serve" in command:
            self._wait_for_the_server(process)
        time.sleep(0.5)
        assert process.poll() is None, f"{command} stopped: {self._logs()}"

    def _wait_for_the_server(self, process: subprocess.Popen[bytes]) -> None:
        url = f"http://127.0.0.1:{self.port}/healthz"
        wait_until_serving(url, process, timeout=60, why=self._logs)

    def _logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.root.glob("background-*"))

    def stop(self) -> None:
        """Each background command is its own process group (bash and what it started)."""
        for process in self.background:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _make_files(root: Path) -> None:
    """What the README's commands read: photo.jpg, photos/, ../shared/corpus, examples/."""
    import pyvips

    work = root / "work"
    (work / "photos").mkdir(parents=True)
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "examples").symlink_to(ROOT / "examples")
    corpus = root / "shared" / "corpus"
    corpus.mkdir(parents=True)
    picked = {"giunchedi-srgb.jpg": "photo.jpg", "concert-grey-icc.jpg": "photos/shoe.jpg",
              "progressive-orient6.jpg": "photos/boot.jpg"}  # fmt: skip
    for name, target in picked.items():
        source = CORPUS / "jpeg" / name
        if source.is_file():
            shutil.copyfile(source, work / target)
        else:  # no corpus checked out beside the repository: draw the images
            pyvips.Image.xyz(1200, 800).extract_band(0).cast("uchar").jpegsave(str(work / target))
        shutil.copyfile(work / target, corpus / Path(target).name)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    pytest.importorskip("pyvips")
    if shutil.which("curl") is None:
        pytest.skip("the README's HTTP examples need curl")
    root = tmp_path_factory.mktemp("readme")
    _make_files(root)
    running = Session(root, free_port())
    yield running
    running.stop()


def test_the_readme_has_console_blocks_with_curl_and_a_server() -> None:
    steps = readme_steps((ROOT / "README.md").read_text("utf-8"))
    assert len(steps) > 20
    assert any("isrender serve" in s.command for s in steps)
    assert any(s.command.startswith("curl") for s in steps)


def test_every_console_block_of_the_readme_runs(session: Session) -> None:
    for step in readme_steps((ROOT / "README.md").read_text("utf-8")):
        command = session.rewrite(step.command)
        if any(name in command for name in BACKGROUND):
            session.start(command)
        elif command.startswith("curl"):
            _check_curl(session, command, step)
        else:
            _check_command(session, command, step)


def _check_command(session: Session, command: str, step: Step) -> None:
    done = session.run(command)
    wants_error = bool(step.expected) and step.expected[0].startswith("error:")
    said = f"README command: {step.command}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    if wants_error:
        assert done.returncode == 2 and step.expected[0] in done.stderr, said
    else:
        assert done.returncode == 0, said


def _check_curl(session: Session, command: str, step: Step) -> None:
    code, body = "", ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = session.run("curl -sS -w '\\n%{http_code}'" + command.removeprefix("curl"))
        body, _, code = done.stdout.rpartition("\n")
        if code.isdigit() and int(code) in step.expected_status:
            return
        time.sleep(1)
    pytest.fail(f"README command: {step.command}\nanswered {code}: {body[:500]}")
