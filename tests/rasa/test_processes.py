"""The process table (ops/processes.py) and supervisord's configuration made from it (ops/supervise.py)."""

from __future__ import annotations

from pathlib import Path

from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from ops.processes import programs
from ops.prod_config import Settings
from ops.supervise import Supervisor


def _prod(**changes) -> Settings:
    s = Settings(
        rasa_ports=[5005, 5006], actions_ports=[5056, 5057], roles=["app", "front"], console_upstream=""
    )
    for key, value in changes.items():
        setattr(s, key, value)
    return s


def test_one_table_for_both_profiles():
    run = Settings.for_run()
    run.rasa_ports, run.actions_ports, run.web = [5005], [5055], True
    assert [p.name for p in programs(run)] == ["actions-5055", "rasa-5005", "web"]
    assert [p.name for p in programs(_prod())] == [
        "actions-5056",
        "actions-5057",
        "rasa-5005",
        "rasa-5006",
        "nginx",
    ]
    with_console = [p.name for p in programs(_prod(console_upstream="127.0.0.1:5088"))]
    assert with_console == ["actions-5056", "actions-5057", "rasa-5005", "rasa-5006", "console", "nginx"]
    assert [p.name for p in programs(_prod(roles=["app"]))] == [
        "actions-5056",
        "actions-5057",
        "rasa-5005",
        "rasa-5006",
    ]
    assert [p.name for p in programs(_prod(roles=["front"], console_upstream="127.0.0.1:5088"))] == [
        "console",
        "nginx",
    ]


def test_commands_follow_the_settings():
    s = _prod(interface="10.0.0.11", strict=True)
    by_name = {p.name: p for p in programs(s)}
    actions = by_name["actions-5056"].command
    assert actions[-5:] == ("--host", "10.0.0.11", "--port", "5056", "--strict")
    rasa = by_name["rasa-5006"]
    assert ("--interface", "10.0.0.11") == rasa.command[rasa.command.index("--interface") :][:2]
    assert (
        rasa.ready_url == "http://10.0.0.11:5006/"
        and rasa.reply_url == "http://10.0.0.11:5006/webhooks/rest/webhook"
    )
    assert by_name["nginx"].stop_signal == "QUIT" and by_name["nginx"].stderr_log == "nginx-error"


def test_supervisord_reads_the_generated_configuration(tmp_path: Path):
    s = _prod(console_upstream="127.0.0.1:5088", var_dir=tmp_path / "v 1")
    progs = programs(s)
    sup = Supervisor(s.run_dir, s.log_dir, progs, name="ocop-test", log_max_bytes="1MB", log_backups=3)
    conf = sup.render()
    options = ServerOptions()
    options.realize(args=["-c", str(conf)])  # supervisord's own parser
    groups = {g.name: g.process_configs[0] for g in options.process_group_configs}
    assert set(groups) == {p.name for p in progs}
    rasa = groups["rasa-5005"]
    assert rasa.autorestart is RestartUnconditionally and rasa.startsecs == 10 and rasa.startretries == 5
    assert rasa.stopasgroup and rasa.killasgroup and rasa.redirect_stderr
    assert rasa.stdout_logfile == str(s.log_dir / "rasa-5005.log")
    assert rasa.stdout_logfile_maxbytes == 1024 * 1024 and rasa.stdout_logfile_backups == 3
    assert rasa.command.split()[1:4] == ["-m", "bot.rasa_run", "run"]
    nginx = groups["nginx"]
    assert nginx.stdout_logfile.endswith("nginx-access.log") and nginx.stderr_logfile.endswith(
        "nginx-error.log"
    )
    assert not nginx.redirect_stderr and nginx.priority > rasa.priority > groups["actions-5056"].priority
    assert groups["console"].environment["OCOP_CONSOLE_PROXIES"] == "1"
    assert options.logfile == str(s.log_dir / "supervisord.log") and options.nodaemon
    assert oct(conf.stat().st_mode & 0o777) == "0o600"
