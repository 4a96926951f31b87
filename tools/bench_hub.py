"""The grader service at course scale, behind a real JupyterHub (`make bench-hub`).

Starts JupyterHub 6 with configurable-http-proxy and the release `mlsys-grader serve` as its
managed service, exactly as tests/python/test_hub.py does (deploy/jupyterhub_config.py plus an
admin driver service), all on loopback. The class (users and a token each) is seeded
into the Hub's database with JupyterHub's own ORM while the Hub is stopped (see `seed_class`:
the REST API would take 13 minutes for 5,000), and a sample of the tokens checked through
the REST API once the Hub is up again. The load generator (grader/examples/hub-load.rs) then sends, per student, about 40 lab events
witnessed in batches and one submission of them, through the Hub's proxy (as kernels do), in
phases: `cold` (each student's first batch: the service asks the Hub about the token), then
warm the other batches and one submission each, half of each at the target rate (2,000
events/s, 300 submissions/s: the latency at that load) and half as fast as the clients can
send (the throughput).

Reported: per phase requests/s, events/s, p50/p99 latency and errors; the service's RSS (peak
of VmRSS sampled every 100 ms, and VmHWM) from /proc; the CPU time each process used per phase
(where the time goes); and the rows in the grader's SQLite database against what was sent and
acknowledged, so nothing is lost or stored twice.

The service runs with `--identity-ttl 3600` so that a token checked in the cold phase stays
checked through the warm phases (the default, 30 s, would make a long warm phase partly cold:
see the cold figures for what a Hub check costs).
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MLSYS_TARGET_DIR", str(ROOT / "target" / "release"))
sys.path.insert(0, str(ROOT / "tests" / "python"))

from hub_support import ACCESS, call_json  # noqa: E402
from test_hub import Hub, descendants, cmdline  # noqa: E402

TARGETS = {"events_per_s": 2000, "submissions_per_s": 300, "p99_ms": 100, "rss_mib": 100}


def ticks(pid: int) -> int:
    """CPU ticks (user + system) used so far by `pid`, 0 once it is gone."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        return 0


def status_kib(pid: int, key: str) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wal_resets(wal: Path) -> int:
    """The checkpoint sequence number in the WAL file's header: it grows each time a
    checkpoint has copied the whole WAL into the database and the WAL starts over."""
    try:
        with open(wal, "rb") as f:
            return int.from_bytes(f.read(16)[12:16], "big")
    except OSError:
        return 0


class Sampler(threading.Thread):
    """Every 50 ms: the peak VmRSS of `pid`, and of its anonymous part (heap: not the
    database file's pages mapped by SQLite's mmap, which the kernel can drop); and when the
    database's WAL started over (a checkpoint of the whole WAL: the writer's pause)."""

    def __init__(self, pid: int, wal: Path):
        super().__init__(daemon=True)
        self.pid, self.wal, self.peak_kib, self.peak_anon_kib = pid, wal, 0, 0
        self.checkpoints = []  # time.monotonic() of each
        self.done = threading.Event()
        self.start()

    def run(self):
        resets = wal_resets(self.wal)
        while not self.done.wait(0.05):
            self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))
            self.peak_anon_kib = max(self.peak_anon_kib, status_kib(self.pid, "RssAnon"))
            now = wal_resets(self.wal)
            if now != resets:
                self.checkpoints.append(time.monotonic())
                resets = now


def seed_class(hub_db: Path, students: int) -> list:
    """Adds `students` users (with the `user` role) and a token each to the Hub's database, in
    one transaction, with JupyterHub's own ORM; returns [(name, token)]. The Hub must be stopped.

    Each is what the REST API makes (`POST /hub/api/users`, `POST /hub/api/users/<name>/tokens`):
    a generated token (one SHA-512 round, as the Hub hashes its own), the `token` role's scopes,
    the `jupyterhub` OAuth client. The REST API takes ~65 ms a user and ~95 ms a token on this
    machine (a commit and a scope expansion each: 13 minutes for 5,000 students); this takes
    seconds. `verify_seed` then checks a sample of tokens through the REST API."""
    from jupyterhub import orm
    from jupyterhub.roles import roles_to_scopes
    from jupyterhub.utils import new_token

    db = orm.new_session_factory(f"sqlite:///{hub_db}")()
    user_role = orm.Role.find(db, "user")
    token_scopes = list(roles_to_scopes([orm.Role.find(db, "token")]))
    expires_at = orm.APIToken.now() + timedelta(hours=4)
    pairs = []
    for i in range(students):
        name = f"student{i:05d}"
        user = orm.User(name=name)
        user.roles.append(user_role)
        token = new_token()
        orm_token = orm.APIToken(generated=True, note="bench-hub", client_id="jupyterhub",
                                 scopes=token_scopes, expires_at=expires_at)
        orm_token.token = token
        orm_token.user = user
        db.add_all([user, orm_token])
        pairs.append((name, token))
    db.commit()
    db.close()
    return pairs


def verify_seed(hub: Hub, pairs: list) -> None:
    """A sample of the seeded tokens is each its user's, with access to the grader service,
    as the Hub's REST API says."""
    for name, token in pairs[:: max(1, len(pairs) // 20)]:
        status, model = call_json("GET", f"{hub.api}/user", token)
        assert status == 200 and model["name"] == name, (status, model)
        assert ACCESS in model["scopes"], model["scopes"]


def processes(hub: Hub) -> dict:
    """The pids whose CPU time is reported: the Hub, its proxy, the grader service."""
    chp = [p for p in descendants(hub.proc.pid) if "configurable-http-proxy" in cmdline(p)]
    return {"hub": hub.proc.pid, "proxy": chp[0] if chp else 0, "service": hub.service_pid()}


def run_load(args, hub: Hub, tokens_file: Path, pids: dict) -> tuple:
    """Runs the load generator; returns its report and each phase's CPU seconds by process."""
    url = hub.grader_direct if args.direct else hub.grader
    command = [str(ROOT / "target" / "release" / "examples" / "hub-load"), "--url", url,
               "--tokens", str(tokens_file), "--concurrency", str(args.concurrency),
               "--cold-concurrency", str(args.cold_concurrency),
               "--events", str(args.events), "--batch", str(args.batch)]
    if args.no_witness:
        command.append("--no-witness")
    command += ["--events-per-s", str(TARGETS["events_per_s"]),
                "--submissions-per-s", str(TARGETS["submissions_per_s"]),
                "--paced-share", str(args.paced_share)]
    client = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched = dict(pids, client=client.pid)
    hz = os.sysconf("SC_CLK_TCK")
    cpu, marks, starts = {}, {}, {}
    for line in client.stderr:  # "hub-load: <phase>: N requests" starts a phase, "...: X req/s" ends it
        sys.stderr.write(line)
        parts = line.strip().split(": ")
        if len(parts) >= 3 and parts[0] == "hub-load":
            phase = parts[1]
            now = {name: ticks(pid) for name, pid in watched.items()}
            if phase not in marks:
                marks[phase] = now
                starts[phase] = time.monotonic()
            else:
                cpu[phase] = {name: (now[name] - marks[phase][name]) / hz for name in now}
    out = client.stdout.read()
    assert client.wait() == 0, f"hub-load failed ({client.returncode})"
    return json.loads(out), cpu, starts


def count_rows(db: Path) -> dict:
    """What the grader's database holds."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    rows = {
        "submissions": one("SELECT COUNT(*) FROM submissions"),
        "distinct_submissions": one("SELECT COUNT(DISTINCT id) FROM submissions"),
        "quarantined": one("SELECT COUNT(*) FROM quarantine"),
    }
    if "witnessed_events" in tables:
        rows.update(
            witnessed=one("SELECT COUNT(*) FROM witnessed_events"),
            distinct_witnessed=one(
                "SELECT COUNT(*) FROM (SELECT DISTINCT student, event_id FROM witnessed_events)"),
            witnessed_conflicts=one("SELECT COUNT(*) FROM witnessed_events WHERE conflict"),
        )
    conn.close()
    return rows


PHASES = ("cold", "witness-paced", "witness-max", "submit-paced", "submit-max")


def report(args, setup, load, cpu, rss, rows, db_bytes) -> str:
    phases = load["phases"]
    lines = [
        f"bench-hub: {load['students']} students, {load['events_sent']} events in "
        f"{load['batches_sent']} batches, {load['submissions_sent']} submissions; "
        f"{args.cold_concurrency} clients cold, {load['concurrency']} warm, "
        f"{'direct to the service' if args.direct else 'through the Hub proxy'}; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
        f"setup: {load['students']} Hub users and tokens seeded in {setup['seed_s']:.1f} s; "
        f"the Hub and the service up in {setup['start_s']:.1f} s",
        "",
        f"{'phase':<13} {'requests':>8} {'req/s':>7} {'events/s':>9} {'p50 ms':>7} {'p90 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'errors':>6} {'failed':>6}   cpu s: service proxy hub client",
    ]
    for name in PHASES:
        p = phases.get(name)
        if not p:
            continue
        errors = sum(n for status, n in p["statuses"].items() if not status.startswith("2"))
        c = cpu.get(name, {})
        lines.append(
            f"{name:<13} {p['requests']:>8} {p['requests_per_s']:>7.0f} {p['events_per_s']:>9.0f} "
            f"{p['p50_ms']:>7.1f} {p['p90_ms']:>7.1f} {p['p99_ms']:>7.1f} {p['max_ms']:>7.1f} "
            f"{errors:>6} {p['failed']:>6}   wall {p['wall_s']:.1f}: "
            + " ".join(f"{c.get(k, 0):.1f}" for k in ("service", "proxy", "hub", "client")))
        for sample in p["error_samples"][:3]:
            lines.append(f"              e.g. {sample[:200]}")
        if p["slow_by_second"] or p.get("wal_checkpoints_at_s"):
            slow = ", ".join(f"{s}: {n}" for s, n in p["slow_by_second"].items())
            lines.append(f"              over 100 ms by second sent: {{{slow}}}; "
                         f"WAL checkpoints at {p.get('wal_checkpoints_at_s', [])} s")
    lines.append("")
    lines.append(f"service RSS: peak {rss['peak_mib']:.1f} MiB (VmHWM {rss['hwm_mib']:.1f} MiB), "
                 f"at the end {rss['end_mib']:.1f} MiB of which {rss['end_file_mib']:.1f} MiB "
                 f"file pages; anonymous peak {rss['peak_anon_mib']:.1f} MiB; "
                 f"database {db_bytes / 2**20:.0f} MiB")
    ack = load["acknowledged"]
    lines.append(f"database: {json.dumps(rows)}")
    lines.append(f"acknowledged: {json.dumps(ack)}")
    lost = []
    if rows["submissions"] != ack["submissions_stored"] or rows["distinct_submissions"] != rows["submissions"]:
        lost.append("submissions")
    if "witnessed" in rows and (rows["witnessed"] != ack["witness_stored"] + ack["witness_conflicts"]
                                or rows["distinct_witnessed"] != rows["witnessed"]
                                or rows["witnessed_conflicts"]):
        lost.append("witnessed events")
    ok = lambda prefix: sum(p["ok"] for k, p in phases.items() if k.startswith(prefix))  # noqa: E731
    witnessed = lambda: sum(p["events"] for k, p in phases.items() if not k.startswith("submit"))  # noqa: E731
    sent_ok = {"submissions": ok("submit") == load["submissions_sent"],
               "events": args.no_witness or witnessed() == load["events_sent"]}
    lines.append(
        "integrity: " + ("every acknowledged item stored exactly once" if not lost
                         else f"MISMATCH in {', '.join(lost)}")
        + ("; every request acknowledged" if all(sent_ok.values())
           else f"; NOT all acknowledged: {sent_ok}"))
    lines.append("")
    lines.append("targets (warm):")
    checks = []
    for kind, rate_key, rate_label in (("witness", "events_per_s", "events/s"),
                                       ("submit", "requests_per_s", "submissions/s")):
        paced, flat = phases.get(f"{kind}-paced"), phases.get(f"{kind}-max")
        target = TARGETS["events_per_s" if kind == "witness" else "submissions_per_s"]
        if flat:
            checks.append((f"{rate_label} as fast as possible", flat[rate_key], target,
                           "met" if flat[rate_key] >= target else "MISSED"))
        if paced:
            checks.append((f"{rate_label} paced", paced[rate_key], target,
                           "kept to" if paced[rate_key] >= 0.98 * target else "FELL BEHIND"))
            checks.append((f"p99 ms at that rate ({kind})", paced["p99_ms"], TARGETS["p99_ms"],
                           "met" if paced["p99_ms"] <= TARGETS["p99_ms"] else "MISSED"))
    checks.append(("service RSS MiB (peak)", rss["peak_mib"], TARGETS["rss_mib"],
                   "met" if rss["peak_mib"] <= TARGETS["rss_mib"] else "MISSED"))
    for label, value, target, verdict in checks:
        lines.append(f"  {label:<32} {value:>8.1f} / {target:<6} {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--events", type=int, default=40, help="lab events per student (about)")
    parser.add_argument("--batch", type=int, default=8, help="events per witness batch at most")
    parser.add_argument("--concurrency", type=int, default=64, help="clients in the warm phases")
    parser.add_argument("--cold-concurrency", type=int, default=8,
                        help="clients in the cold phase (each waits for the Hub)")
    parser.add_argument("--paced-share", type=float, default=0.5,
                        help="the share of each warm phase sent at the target rate (latency at "
                             "that load); the rest goes as fast as possible (throughput)")
    parser.add_argument("--direct", action="store_true",
                        help="send to the service's own port, not through the Hub's proxy")
    parser.add_argument("--no-witness", action="store_true",
                        help="a service without /api/witness: submissions only")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        tmp = Path(tmp)
        flags = {"identity-ttl": 3600}
        Hub(tmp, students=(), grader_flags=flags).stop()  # creates the Hub's database
        started = time.monotonic()
        pairs = seed_class(tmp / "course" / "jupyterhub.sqlite", args.students)
        setup = {"seed_s": time.monotonic() - started}
        started = time.monotonic()
        hub = Hub(tmp, students=(), grader_flags=flags)
        setup["start_s"] = time.monotonic() - started
        try:
            verify_seed(hub, pairs)
            tokens_file = tmp / "tokens.txt"
            tokens_file.write_text("".join(f"{name} {token}\n" for name, token in pairs))
            pids = processes(hub)
            wal = hub.grader_db.with_name(hub.grader_db.name + "-wal")
            sampler = Sampler(pids["service"], wal)
            load, cpu, starts = run_load(args, hub, tokens_file, pids)
            sampler.done.set()
            sampler.join()
            for name, phase in load["phases"].items():
                begin, wall = starts.get(name, 0), phase["wall_s"]
                phase["wal_checkpoints_at_s"] = [round(t - begin, 1) for t in sampler.checkpoints
                                                 if begin <= t <= begin + wall]
            rss = {"peak_mib": sampler.peak_kib / 1024, "peak_anon_mib": sampler.peak_anon_kib / 1024,
                   "end_file_mib": status_kib(pids["service"], "RssFile") / 1024,
                   "hwm_mib": status_kib(pids["service"], "VmHWM") / 1024,
                   "end_mib": status_kib(pids["service"], "VmRSS") / 1024}
            assert hub.service_pid() == pids["service"], "the service was restarted during the run"
            rows = count_rows(hub.grader_db)
            db_bytes = sum(p.stat().st_size for p in hub.grader_db.parent.iterdir()
                           if p.name.startswith(hub.grader_db.name))
        except BaseException:
            sys.stderr.write(hub.tail())
            raise
        finally:
            hub.stop()
    print(report(args, setup, load, cpu, rss, rows, db_bytes))
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "load": load, "cpu": cpu, "rss": rss,
                                         "database": rows}, indent=2))


if __name__ == "__main__":
    main()
