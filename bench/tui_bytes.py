"""Bytes on the wire: what the TUI writes to its terminal, measured with `tmux pipe-pane` at 80x24.

Workload (issue 15): one submitted run logging 10 metric points a second and one log line a second. States:
idle (a finished run selected, nothing changing) on the main screen, under `l` and under `m`; then the live run
selected on the main screen, under `l` and under `m`. htop (1 s refresh) is measured the same way beside it
(skipped, with the reason, when it is not installed), and so is W&B's LEET (`wandb leet`, wandb >= 0.31) on the
same workload logged by `wandb` in offline mode, finished (idle) and logging (live), in its default view, with
its console-log panel (`4`) and with its charts alone (`[`); skipped, with the reason, when wandb is missing.
Also the TUI's CPU (user+sys of its process and its children: LEET's Go core is one) over each window, and
freshness: under `l`, seconds from the workload printing a line to the TUI sending it (from the timestamped
capture); under `m`, seconds from `run.log` to the chart's "N points" counting it on screen (read with
`capture-pane` every 50 ms, so up to ~50 ms late). LEET's freshness is not measured here (its charts say no
point count to read back).

    python -m bench.tui_bytes [--seconds 10] [--states idle,live] [--json out.json] [--keep] [--no-leet]

`--keep` keeps the captures: `tui-*.bytes` (what the TUI sent), `*.bytes.ts` ("time size" after each read of
it: when each frame left), and the `*.offset`/`*.end` byte offsets of each measured window.
The figures depend on the machine's load: say what else ran when quoting them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (80, 24)
SOCKET = f"runtui-bytes-{os.getpid()}"

WORKLOAD = """\
import math, sys, time
from runtui import Run
run = Run.get_context()
seconds = float(sys.argv[1])
printed = open(sys.argv[2], "a") if len(sys.argv) > 2 else None  # when each log line was written (freshness)
logged = open(sys.argv[3], "a") if len(sys.argv) > 3 else None  # when each point was logged
start = time.time()
step = 0
while time.time() - start < seconds:
    run.log("loss", 1.0 / (1 + step * 0.01) + 0.05 * math.sin(step))
    if logged is not None:
        logged.write(f"{step} {time.time()}\\n")
        logged.flush()
    if step % 10 == 0:
        print(f"step {step} loss {1.0 / (1 + step * 0.01):.4f}", flush=True)
        if printed is not None:
            printed.write(f"{step} {time.time()}\\n")
            printed.flush()
    step += 1
    time.sleep(0.1)
"""

# pipe-pane's reader: the bytes to OUT, and "time offset" per read to OUT.ts (when each frame left the TUI)
STAMPER = """\
import os, sys, time
out = open(sys.argv[1], "ab", buffering=0)
ts = open(sys.argv[1] + ".ts", "a", buffering=1)
while True:
    data = os.read(0, 65536)
    if not data:
        break
    out.write(data)
    ts.write(f"{time.time():.4f} {out.tell()}\\n")
"""


def tmux(*args: str, check: bool = True) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "server exited unexpectedly" in done.stderr:
        # the last session just closed and the server was on its way out: a new one starts on the retry
        time.sleep(0.5)
        done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTUI_")}
    env["RUNTUI_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["TERM"] = "xterm-256color"
    env.pop("NO_COLOR", None)
    return env


class Pane:
    """One program in a detached tmux session of SIZE, its output appended to a file."""

    def __init__(self, name: str, command: str, env: dict[str, str], out: Path) -> None:
        self.name = name
        self.out = out
        env_args = [
            arg
            for k, v in env.items()
            if k in ("RUNTUI_HOME", "PYTHONPATH", "TERM", "PATH")
            for arg in ("-e", f"{k}={v}")
        ]
        # -c REPO: `python -m runtui` imports from its working folder first (an editable install of another
        # checkout would otherwise be what gets measured)
        tmux(
            "new-session", "-d", "-c", str(REPO), "-s", name, "-x", str(SIZE[0]), "-y", str(SIZE[1]), *env_args, command
        )
        tmux("pipe-pane", "-o", "-t", name, f"{sys.executable} -c '{STAMPER}' {out}")

    def keys(self, *keys: str) -> None:
        for key in keys:
            tmux("send-keys", "-t", self.name, key)
            time.sleep(0.3)

    def size(self) -> int:
        return self.out.stat().st_size if self.out.exists() else 0

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.name, check=False)

    def pid(self) -> int:
        return int(tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def close(self) -> None:
        tmux("kill-session", "-t", self.name, check=False)


def cpu_seconds(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def measure(pane: Pane, seconds: float, settle: float = 3.0, mark: str = "") -> tuple[float, float]:
    """(bytes per second, CPU share of one core) over `seconds`, after `settle` seconds and, on this loaded
    machine, after the view's opening paint is over (output quiet for a second, or 8 s at most)."""
    time.sleep(settle)
    deadline = time.monotonic() + 8
    last = pane.size()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = pane.size()
        if now == last:
            break
        last = now
    pid = pane.pid()
    if mark:
        (pane.out.parent / f"{pane.name}-{mark}.offset").write_text(str(pane.size()))
    b0, c0, t0 = pane.size(), cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    b1, c1, t1 = pane.size(), cpu_seconds(pid), time.monotonic()
    if mark:
        (pane.out.parent / f"{pane.name}-{mark}.end").write_text(str(b1))
    return (b1 - b0) / (t1 - t0), (c1 - c0) / (t1 - t0)


def stamps(out: Path) -> list[tuple[float, int]]:
    """(time, file size after that read) for every read the stamper made of `out`."""
    ts = Path(str(out) + ".ts")
    if not ts.exists():
        return []
    pairs = []
    for line in ts.read_text().splitlines():
        t, size = line.split()
        pairs.append((float(t), int(size)))
    return pairs


def log_freshness(out: Path, printed: Path, start: int, end: int) -> dict[str, float] | None:
    """Seconds from the workload printing a log line to the TUI sending it (median, max), for the lines that
    reached the screen between byte offsets `start` and `end` of the capture."""
    if not printed.exists():
        return None
    data = out.read_bytes()
    reads = stamps(out)
    opened = next((ts for ts, size in reads if size >= start), None)  # the window's start
    if opened is None:
        return None
    delays = []
    for line in printed.read_text().splitlines():
        step, t = line.split()
        if float(t) < opened:
            continue  # printed before the window: it may have been on screen already
        at = data.find(f"step {step} loss".encode(), start, end)
        if at < 0:
            continue
        sent = next((ts for ts, size in reads if size > at), None)
        if sent is not None:
            delays.append(sent - float(t))
    if not delays:
        return None
    delays.sort()
    return {"median_s": round(delays[len(delays) // 2], 3), "max_s": round(delays[-1], 3), "lines": len(delays)}


class PointsSeen(threading.Thread):
    """Polls the pane's text (what the terminal shows) and notes when the first chart's "N points" first read
    each N: the metrics view's freshness, seen the way a reader sees it."""

    def __init__(self, pane: Pane) -> None:
        super().__init__(daemon=True)
        self.pane = pane
        self.seen: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        last = -1
        while not self.stop.wait(0.05):
            match = re.search(r"(\d[\d,]*) points", self.pane.screen())
            if match:
                count = int(match.group(1).replace(",", ""))
                if count != last:
                    self.seen.append((time.time(), count))
                    last = count


def metric_freshness(seen: list[tuple[float, int]], logged: Path, out: Path, start: int) -> dict[str, float] | None:
    """Seconds from `run.log` to the point being counted on screen (median, max), for points logged in the
    window (from byte offset `start` of the capture)."""
    if not logged.exists() or not seen:
        return None
    opened = next((ts for ts, size in stamps(out) if size >= start), None)
    if opened is None:
        return None
    delays = []
    for line in logged.read_text().splitlines():
        step, t = int(line.split()[0]), float(line.split()[1])
        if t < opened:
            continue
        shown = next((ts for ts, count in seen if count >= step + 1), None)
        if shown is not None:
            delays.append(shown - t)
    if not delays:
        return None
    delays.sort()
    return {"median_s": round(delays[len(delays) // 2], 3), "max_s": round(delays[-1], 3), "points": len(delays)}


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def runtui(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runtui", *args], env=env_for(home), capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"runtui {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def tui_states(
    home: Path, scratch: Path, seconds: float, live: bool, printed: Path | None = None, logged: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Start the TUI, select the newest run of the one experiment, measure main / `l` / `m`."""
    out = scratch / f"tui-{'live' if live else 'idle'}.bytes"
    pane = Pane(f"tui-{'live' if live else 'idle'}", f"{sys.executable} -m runtui", env_for(home), out)
    results: dict[str, dict[str, Any]] = {}
    try:
        wait_for(lambda: "bench" in pane.screen(), "the TUI's first paint", timeout=180)
        time.sleep(1.0)
        pane.keys("Down")  # the experiment is open (the only one); the newest run is right below it
        for view, keys in (("main", ()), ("log (l)", ("l",)), ("metrics (m)", ("m",))):
            pane.keys(*keys)
            watch = PointsSeen(pane) if live and logged is not None and view.startswith("metrics") else None
            if watch is not None:
                watch.start()
            rate, cpu = measure(pane, seconds, mark=view.split()[0])
            results[view] = {"bytes_per_s": round(rate, 1), "cpu_share": round(cpu, 4)}
            if watch is not None and logged is not None:
                watch.stop.set()
                watch.join()
                start = int((scratch / f"{pane.name}-metrics.offset").read_text())
                results[view]["freshness"] = metric_freshness(watch.seen, logged, out, start)
            if live and printed is not None and view.startswith("log"):
                name = view.split()[0]
                start = int((scratch / f"{pane.name}-{name}.offset").read_text())
                end = int((scratch / f"{pane.name}-{name}.end").read_text())
                results[view]["freshness"] = log_freshness(out, printed, start, end)
            if keys:
                pane.keys("Escape")
    finally:
        pane.close()
    return results


# The same workload logged by W&B (offline), for LEET, W&B's terminal UI (`wandb leet`, wandb >= 0.31).
WANDB_WORKLOAD = """\
import math, sys, time, wandb
run = wandb.init(project="bench", mode="offline", dir=sys.argv[2])
seconds = float(sys.argv[1])
start = time.time()
step = 0
while time.time() - start < seconds:
    run.log({"loss": 1.0 / (1 + step * 0.01) + 0.05 * math.sin(step)}, step=step)
    if step % 10 == 0:
        print(f"step {step} loss {1.0 / (1 + step * 0.01):.4f}", flush=True)
    step += 1
    time.sleep(0.1)
run.finish()
"""

# LEET's views at 80x24, reached from its default one (run overview sidebar + metrics grid) by toggles:
# `4` opens the console-log panel under the charts, `[` hides the sidebar so the charts take the screen.
LEET_VIEWS: tuple[tuple[str, tuple[str, ...]], ...] = (("main", ()), ("log (4)", ("4",)), ("charts ([)", ("[",)))


def leet_command() -> str | None:
    """How to start LEET here, or None (wandb missing or older than LEET)."""
    cli = shutil.which("wandb") or str(Path(sys.executable).with_name("wandb"))
    if not Path(cli).exists():
        return None
    done = subprocess.run([cli, "leet", "--help"], capture_output=True, text=True, timeout=60, check=False)
    return f"{cli} leet" if done.returncode == 0 else None


def wandb_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTUI_", "WANDB_"))}
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "TERM": "xterm-256color"})
    return env


def leet_states(scratch: Path, seconds: float, live: bool, leet: str) -> dict[str, Any]:
    """LEET on one offline W&B run of the workload (finished, or logging while measured), measured as runtui is."""
    name = "leet-live" if live else "leet-idle"
    folder = scratch / name
    folder.mkdir()
    script = scratch / "wandb_train.py"
    script.write_text(WANDB_WORKLOAD, encoding="utf-8")
    live_s = len(LEET_VIEWS) * (seconds + 12) + 30
    args = [sys.executable, str(script), str(live_s if live else 2), str(folder)]
    out = subprocess.DEVNULL
    writer = subprocess.Popen(args, env=wandb_env(), stdout=out, stderr=out)
    try:
        if not live:
            writer.wait(timeout=120)
        run_dir = folder / "wandb" / "latest-run"
        wait_for(lambda: (run_dir / "files").exists() or any(run_dir.glob("*.wandb")), "the W&B run folder")
        pane = Pane(name, f"{leet} {run_dir.resolve()}", {"TERM": "xterm-256color", "PATH": os.environ["PATH"]},
                    scratch / f"{name}.bytes")  # fmt: skip
        results: dict[str, Any] = {}
        try:
            wait_for(lambda: "Overview" in pane.screen(), "LEET's first paint", timeout=120)
            time.sleep(1.0)
            for view, keys in LEET_VIEWS:
                pane.keys(*keys)
                rate, cpu = measure(pane, seconds)
                results[view] = {"bytes_per_s": round(rate, 1), "cpu_share": round(cpu, 4)}
                pane.keys(*keys)  # each key toggles its panel: back to the default view
        finally:
            pane.close()
        return results
    finally:
        if writer.poll() is None:
            writer.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                writer.wait(timeout=30)


def htop_idle(scratch: Path, seconds: float) -> dict[str, float] | str:
    """htop (1 s refresh) measured the same way: the anchor beside runtui's figures. Skipped, with the reason,
    when htop is missing or cannot start (the TUI's own figures still stand)."""
    if shutil.which("htop") is None:
        return "htop is not installed: not measured"
    try:
        pane = Pane(
            "htop",
            "htop -d 10",
            {"TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")},
            scratch / "htop.bytes",
        )
    except RuntimeError as exc:
        return f"htop did not start: {exc}"
    try:
        time.sleep(1.0)
        rate, cpu = measure(pane, seconds)
    finally:
        pane.close()
    return {"bytes_per_s": round(rate, 1), "cpu_share": round(cpu, 4)}


def leet_report(scratch: Path, seconds: float, states: set[str]) -> dict[str, Any] | str:
    """LEET's figures, or why there are none (said in the output, never a failure of the bench)."""
    try:
        import wandb  # noqa: F401
    except ImportError:
        return "wandb is not installed (pip install wandb>=0.31): LEET not measured"
    leet = leet_command()
    if leet is None:
        return "this wandb has no `wandb leet` (LEET came with wandb 0.31): not measured"
    report: dict[str, Any] = {}
    for state in ("idle", "live"):
        if state in states:
            try:
                report[state] = leet_states(scratch, seconds, state == "live", leet)
            except Exception as exc:  # LEET is the anchor, not the subject: say why and keep runtui's figures
                report[state] = f"LEET could not be driven: {type(exc).__name__}: {exc}"
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measuring window")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the captured bytes (the folder is printed)")
    parser.add_argument(
        "--states", default="idle,live", help="which states to measure: idle, live or both (comma-separated)"
    )
    parser.add_argument("--no-leet", action="store_true", help="skip W&B's LEET (measured beside runtui)")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed: nothing measured", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="runtui-bytes-"))
    home = scratch / "home"
    src = scratch / "bench"
    src.mkdir()
    (src / "train.py").write_text(WORKLOAD, encoding="utf-8")
    report: dict[str, Any] = {"size": f"{SIZE[0]}x{SIZE[1]}", "load_before": os.getloadavg()}
    run_id = ""
    try:
        finished = runtui(home, "submit", "--wait", str(src / "train.py"), "2")
        states = {state.strip() for state in args.states.split(",")}
        if "idle" in states:
            report["idle"] = tui_states(home, scratch, args.seconds, live=False)
        live_s = 3 * (args.seconds + 6) + 30
        printed, logged = scratch / "printed.txt", scratch / "logged.txt"
        run_id = runtui(home, "submit", str(src / "train.py"), str(live_s), str(printed), str(logged))
        if "live" in states:
            report["live"] = tui_states(home, scratch, args.seconds, live=True, printed=printed, logged=logged)
        report["htop_idle"] = htop_idle(scratch, args.seconds)
        report["runs"] = {"finished": finished.splitlines()[0] if finished else "", "live": run_id}
        if run_id:  # runtui's workload ends before LEET's starts: each is measured with its own alone
            with contextlib.suppress(Exception):
                runtui(home, "cancel", run_id)
            run_id = ""
        if not args.no_leet:
            report["leet"] = leet_report(scratch, args.seconds, states)
    finally:
        if run_id:  # the live run ends now, also when a measurement failed
            with contextlib.suppress(Exception):
                runtui(home, "cancel", run_id)
        tmux("kill-server", check=False)
        report["load_after"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if args.keep:
        print(f"captures kept in {scratch}", file=sys.stderr)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
