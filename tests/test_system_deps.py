"""scripts/system-deps.sh: what it installs, and that it waits for another package manager's lock.

Nothing is installed: ``dpkg``, ``apt-get``, ``sudo`` and ``id`` are replaced by stand-ins on the
PATH. The stand-in apt-get fails as the real one does ("E: Could not get lock ...") while a lock file
is held (``flock``) by a process the test starts, and records every call.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "system-deps.sh"
MISSING = ["libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"]

FAKE_APT_GET = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_APT_LOG"
if [ -n "${FAKE_APT_FAILURE:-}" ]; then
  echo "$FAKE_APT_FAILURE" >&2
  exit 100
fi
if ! flock -n "$FAKE_APT_LOCK" true; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
  echo "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?" >&2
  exit 100
fi
echo "fake apt-get: $*"
"""


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, str]:
    """Return the environment of a machine where the packages are missing and the user is not root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_ins = {
        "apt-get": FAKE_APT_GET,
        "dpkg": '#!/usr/bin/env bash\n[ -n "${FAKE_INSTALLED:-}" ]\n',
        "sudo": '#!/usr/bin/env bash\necho "sudo $*" >> "$FAKE_APT_LOG"\nexec "$@"\n',
        "id": "#!/usr/bin/env bash\necho 1000\n",
    }
    for name, text in stand_ins.items():
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "apt.log"
    log.touch()
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_APT_LOG": str(log),
        "FAKE_APT_LOCK": str(tmp_path / "lock-frontend"),
        "TRIALKIT_APT_LOCK_POLL": "1",
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def apt_calls(env: dict[str, str]) -> list[str]:
    lines = Path(env["FAKE_APT_LOG"]).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if not line.startswith("sudo ")]


class LockHolder:
    """Hold ``path`` with ``flock`` in another process, as a second package manager would."""

    def __init__(self, path: str, seconds: float):
        # its own session, so that release() ends flock and its sleep together
        self.process = subprocess.Popen(["flock", path, "sleep", str(seconds)], start_new_session=True)
        deadline = time.monotonic() + 10
        while subprocess.run(["flock", "-n", path, "true"]).returncode == 0:  # not taken yet
            assert time.monotonic() < deadline, "the lock holder did not take the lock"
            time.sleep(0.05)

    def release(self) -> None:
        """End the holder (flock and its sleep), which frees the lock."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def test_the_script_is_valid_bash() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_nothing_runs_when_every_package_is_installed(machine: dict[str, str]) -> None:
    done = run({**machine, "FAKE_INSTALLED": "1"})
    assert done.returncode == 0, done.stderr
    assert apt_calls(machine) == []


def test_dry_run_names_the_missing_packages_and_runs_nothing(machine: dict[str, str]) -> None:
    done = run(machine, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert apt_calls(machine) == []
    lock = "-o DPkg::Lock::Timeout=600"
    assert done.stdout.splitlines() == [
        f"would run: sudo env DEBIAN_FRONTEND=noninteractive apt-get {lock} update -q",
        f"would run: sudo env DEBIAN_FRONTEND=noninteractive apt-get {lock} install -y -q {' '.join(MISSING)}",
    ]


def test_installs_the_missing_packages_through_sudo(machine: dict[str, str]) -> None:
    done = run(machine)
    assert done.returncode == 0, done.stderr
    lock = "-o DPkg::Lock::Timeout=600"
    assert apt_calls(machine) == [f"{lock} update -q", f"{lock} install -y -q {' '.join(MISSING)}"]
    assert Path(machine["FAKE_APT_LOG"]).read_text(encoding="utf-8").count("sudo env DEBIAN_FRONTEND") == 2


def test_waits_while_another_process_holds_the_lock(machine: dict[str, str]) -> None:
    holder = LockHolder(machine["FAKE_APT_LOCK"], seconds=2.5)
    try:
        done = run(machine)
    finally:
        holder.release()
    assert done.returncode == 0, done.stderr
    calls = apt_calls(machine)
    assert calls[-1].endswith(f"install -y -q {' '.join(MISSING)}")
    assert len(calls) >= 3  # update tried again at least once before it went through
    assert "another process holds the package manager's lock; trying again in 1 s" in done.stderr


def test_gives_up_with_a_message_when_the_lock_stays_held(machine: dict[str, str]) -> None:
    holder = LockHolder(machine["FAKE_APT_LOCK"], seconds=60)
    start = time.monotonic()
    try:
        done = run({**machine, "TRIALKIT_APT_LOCK_TIMEOUT": "2"})
    finally:
        holder.release()
    assert time.monotonic() - start < 30
    assert done.returncode == 100
    assert "the package manager's lock was still held after 2 s" in done.stderr
    assert all(call.startswith("-o DPkg::Lock::Timeout=2 update") for call in apt_calls(machine))


def test_other_failures_are_not_retried(machine: dict[str, str]) -> None:
    failure = "E: Unable to locate package libpango-1.0-0"
    done = run({**machine, "FAKE_APT_FAILURE": failure})
    assert done.returncode == 100
    assert len(apt_calls(machine)) == 1
    assert failure in done.stderr
    assert "trying again" not in done.stderr


@pytest.mark.parametrize("setting", ["TRIALKIT_APT_LOCK_TIMEOUT", "TRIALKIT_APT_LOCK_POLL"])
def test_a_timeout_that_is_not_a_number_is_refused(machine: dict[str, str], setting: str) -> None:
    done = run({**machine, setting: "ten"})
    assert done.returncode == 2
    assert "must be whole numbers of seconds" in done.stderr
    assert apt_calls(machine) == []


def test_an_unknown_option_is_refused(machine: dict[str, str]) -> None:
    done = run(machine, "--chromium")
    assert done.returncode == 2
    assert "usage:" in done.stderr
