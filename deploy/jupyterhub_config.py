"""JupyterHub configuration for a course running the mlsys lab.

It registers `mlsys-grader serve` as a Hub-managed service, makes the `mlsys` kernel
available to every user, and tells each user's server (and so each kernel) where the
grader service is, so `%submit` hands in with the student's own Hub token.

Every setting can be changed with an environment variable (see the table in
deploy/README.md); for a trial on one machine:

    MLSYS_AUTH=dummy MLSYS_DUMMY_PASSWORD=try-me MLSYS_SPAWNER=simple \
        MLSYS_GRADER_USER=$(whoami) jupyterhub -f deploy/jupyterhub_config.py

Read with `jupyterhub -f`, this file sees `c` (the config) and `get_config()`.
"""

import getpass
import os
import pwd
import shlex
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)


def setting(name: str, default: str) -> str:
    """An MLSYS_* environment variable, or its default."""
    value = os.environ.get(name, "").strip()
    return value or default


def names(text: str) -> set:
    """A comma-separated list of user names."""
    return {n.strip() for n in text.split(",") if n.strip()}


# --- Where things live ------------------------------------------------------------------------
# Course state: the Hub's own database and cookie secret, the grader's directory (its SQLite
# database: grades and every submission), and the exchange directory kernels fall back to when
# the service cannot be reached. Students have shells on this host with the local-process
# spawner, so the course directory cannot be listed by them, the grader's directory is its
# user's alone (0700), and the exchange takes files but cannot be listed.
course_dir = Path(setting("MLSYS_COURSE_DIR", "/srv/mlsys"))
grader_db = Path(setting("MLSYS_GRADER_DB", str(course_dir / "grader" / "grades.sqlite")))
exchange_dir = Path(setting("MLSYS_EXCHANGE", str(course_dir / "exchange")))
if not os.environ.get("MLSYS_GRADER_DB", "").strip() and (course_dir / "grades.sqlite").exists():
    sys.exit(
        f"{course_dir / 'grades.sqlite'} is where an older config kept the grader database; "
        f"move it (and its -wal, -shm, .released files) into {grader_db.parent}/, "
        "or set MLSYS_GRADER_DB to keep it where it is"
    )
for directory in (course_dir, grader_db.parent, exchange_dir):
    directory.mkdir(parents=True, exist_ok=True)
course_dir.chmod(0o711)

# --- The grader service's Unix user -----------------------------------------------------------
# When the Hub runs as root, the service runs as a dedicated unprivileged user (default
# `mlsys-grader`; create it once, see deploy/README.md). MLSYS_GRADER_USER names another user;
# naming the Hub's own user runs the service as the Hub does (trials and tests only).
hub_user = getpass.getuser()
grader_user = setting("MLSYS_GRADER_USER", "mlsys-grader" if os.geteuid() == 0 else hub_user)
try:
    grader_account = pwd.getpwnam(grader_user)
except KeyError:
    sys.exit(
        f"the grader service runs as the Unix user {grader_user!r}, which does not exist: "
        "create it with `useradd --system --user-group --home-dir /nonexistent "
        f"--shell /usr/sbin/nologin {grader_user}` (or set MLSYS_GRADER_USER)"
    )
separate_user = grader_user != hub_user
if separate_user and os.geteuid() != 0:
    sys.exit(f"MLSYS_GRADER_USER={grader_user} needs the Hub to run as root (it runs as {hub_user})")

# The grader's directory and files belong to its user alone.
grader_dir = grader_db.parent
if separate_user:
    os.chown(grader_dir, grader_account.pw_uid, grader_account.pw_gid)
    for path in grader_dir.iterdir():
        if path.name.startswith(grader_db.name):
            os.chown(path, grader_account.pw_uid, grader_account.pw_gid)
grader_dir.chmod(0o700)

# The exchange: everyone may drop files in and nobody may list it or delete others' files
# (sticky). With a separate grader user its group may list and read it, and files dropped in
# take that group (setgid), so kernels write them readable by the group and no one else.
if separate_user:
    os.chown(exchange_dir, 0, grader_account.pw_gid)
    exchange_dir.chmod(0o3753)
else:
    exchange_dir.chmod(0o1733)

grader_bin = setting("MLSYS_GRADER_BIN", shutil.which("mlsys-grader") or "/usr/local/bin/mlsys-grader")

# --- Network: loopback by default -------------------------------------------------------------
hub_ip = setting("MLSYS_HUB_IP", "127.0.0.1")
hub_port = int(setting("MLSYS_HUB_PORT", "8000"))  # the public proxy port users open
hub_api_port = int(setting("MLSYS_HUB_API_PORT", "8081"))  # the Hub's internal REST API
proxy_api_port = int(setting("MLSYS_PROXY_API_PORT", "8001"))
grader_port = int(setting("MLSYS_GRADER_PORT", "10101"))

c.JupyterHub.bind_url = f"http://{hub_ip}:{hub_port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub_api_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
chp = setting("MLSYS_CHP", shutil.which("configurable-http-proxy") or "configurable-http-proxy")
c.ConfigurableHTTPProxy.command = [chp]
c.ConfigurableHTTPProxy.pid_file = str(course_dir / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{course_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(course_dir / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(course_dir / "jupyterhub.pid")

# --- Who may log in ---------------------------------------------------------------------------
instructors = names(setting("MLSYS_INSTRUCTORS", ""))
students = names(setting("MLSYS_STUDENTS", ""))
instructors_group = setting("MLSYS_INSTRUCTORS_GROUP", "instructors")

if setting("MLSYS_AUTH", "pam") == "dummy":
    # Local trial only: any listed user logs in with the one shared password.
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = setting("MLSYS_DUMMY_PASSWORD", "")
    if not c.DummyAuthenticator.password:
        sys.exit("MLSYS_AUTH=dummy needs MLSYS_DUMMY_PASSWORD")
else:
    # The machine's accounts (students and staff need Unix users).
    c.JupyterHub.authenticator_class = "pam"
if students or instructors:
    c.Authenticator.allowed_users = students | instructors
else:
    c.Authenticator.allow_all = True
c.Authenticator.admin_users = names(setting("MLSYS_ADMINS", ""))
c.JupyterHub.load_groups = {instructors_group: {"users": sorted(instructors)}}

# --- Users' servers ---------------------------------------------------------------------------
if setting("MLSYS_SPAWNER", "local") == "simple":
    # Every server runs as the Hub's own user (trial machines and tests only).
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(course_dir / "homes" / "{username}")
    if os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]
else:
    c.JupyterHub.spawner_class = "localprocess"  # each server runs as its Unix user
c.Spawner.default_url = "/lab"

# Every kernel a user starts inherits this: where to hand in, and the fallback exchange.
# The grader URL goes through the Hub's proxy, which routes /services/mlsys-grader/ to it
# (set MLSYS_GRADER_URL when users' servers run on other machines than the proxy).
grader_url = setting("MLSYS_GRADER_URL", f"http://127.0.0.1:{hub_port}/services/mlsys-grader")
c.Spawner.environment = {
    "MLSYS_GRADER_URL": grader_url,
    "MLSYS_EXCHANGE": str(exchange_dir),
}
# The `mlsys` kernelspec, installed for all users with `mlsys-kernel install --prefix
# /usr/local` (see README), is found through Jupyter's system path. MLSYS_JUPYTER_PATH adds
# another kernelspec location (tests use it).
if os.environ.get("MLSYS_JUPYTER_PATH"):
    c.Spawner.environment["JUPYTER_PATH"] = os.environ["MLSYS_JUPYTER_PATH"]

# --- The grader service -----------------------------------------------------------------------
service = {
    "name": "mlsys-grader",
    "url": f"http://127.0.0.1:{grader_port}",
    "command": [
        grader_bin,
        "--db",
        str(grader_db),
        "serve",
        "--instructors-group",
        instructors_group,
        # More `mlsys-grader serve` flags (see `mlsys-grader serve --help`), e.g.
        # "--identity-ttl 30 --quarantine-max-records 100".
        *shlex.split(setting("MLSYS_GRADER_ARGS", "")),
    ],
    "environment": {"RUST_LOG": setting("MLSYS_GRADER_LOG", "info")},
    "cwd": str(grader_dir),
    "display": False,
}
if separate_user:
    service["user"] = grader_user
c.JupyterHub.services = [service]
# Only tokens with access to the service are accepted by it: every user gets that scope (with
# `self`, the default), and the token each user's server (and so each kernel) gets carries it.
access_grader = "access:services!service=mlsys-grader"
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", access_grader]
c.JupyterHub.load_roles = [
    {
        # The service reads users' names, groups and admin flag to tell instructors from students.
        "name": "mlsys-grader",
        "description": "Look up who is an instructor",
        "scopes": ["read:users", "read:groups"],
        "services": ["mlsys-grader"],
    },
    {
        "name": "user",
        "description": "Standard user privileges, and handing in to the grader service",
        "scopes": ["self", access_grader],
    },
]
