"""The rules layer labels the taxonomy's own examples correctly."""

from __future__ import annotations

import pytest

from agent.classify import Classifier
from agent.classify._rules import RuleSet, states_a_failure, supported_categories
from agent.config import ClassifyConfig, Rule

RULES_ONLY = ClassifyConfig(model=False)

EXAMPLES = [
    (b"Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2", "failed_login"),
    (b"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
     b"rhost=203.0.113.9", "failed_login"),
    (b"Disconnecting: Too many authentication failures", "failed_login"),
    (b"reverse mapping checking getaddrinfo for x [1.2.3.4] failed - POSSIBLE BREAK-IN ATTEMPT!",
     "security_alert"),
    (b"[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.9 DST=10.0.0.5", "security_alert"),
    (b'apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd"', "security_alert"),
    (b"Did not receive identification string from 203.0.113.9", "security_alert"),
    (b"useradd[812]: new user: name=backup, UID=1002", "admin_change"),
    (b"sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/systemctl restart "
     b"nginx", "admin_change"),
    (b"chpasswd: password changed for bob", "admin_change"),
    (b"Accepted publickey for alice from 198.51.100.4 port 50022 ssh2", "login"),
    (b"pam_unix(sshd:session): session opened for user alice", "login"),
    (b"pam_unix(sshd:session): session closed for user alice", "login"),
    (b"ERROR payment-service: timeout after 30000 ms", "error"),
    (b"kernel: EXT4-fs error (device sda1)", "error"),
]


@pytest.mark.parametrize(("line", "category"), EXAMPLES)
def test_taxonomy_examples_get_their_category(line: bytes, category: str) -> None:
    label = Classifier(RULES_ONLY).label(line)
    assert (label.category, label.layer) == (category, 1)


def test_a_failed_root_login_is_failed_login_not_admin_change() -> None:
    label = Classifier(RULES_ONLY).label(
        b"su: FAILED SU (to root) alice on pts/0")
    assert label.category == "failed_login"


def test_unmatched_line_is_unclassified_by_no_layer() -> None:
    label = Classifier(RULES_ONLY).label(b"GET /index.html 200")
    assert (label.category, label.layer) == ("unclassified", 0)


def test_user_rules_come_before_the_built_in_rules() -> None:
    config = ClassifyConfig(rules=[Rule(pattern=r"Failed password for demo", category="normal")],
                            model=False)
    c = Classifier(config)
    assert c.label(b"Failed password for demo from 1.2.3.4").category == "normal"
    assert c.label(b"Failed password for root from 1.2.3.4").category == "failed_login"


def test_rules_run_on_invalid_utf8_without_decoding() -> None:
    label = Classifier(RULES_ONLY).label(b"\xff\xfe Failed password for \xc3 from x")
    assert label.category == "failed_login"


# Session 2 rules: written from the programs' own wording (development systems only).
SESSION2 = [
    (b"sshd[24200]: PAM service(sshd) ignoring max retries; 6 > 3", "failed_login"),
    (b"gdm-binary[2345]: Couldn't authenticate user", "failed_login"),
    (b"sshd[812]: fatal: Unable to negotiate with 203.0.113.9 port 50022: no matching key "
     b"exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
     "security_alert"),
    (b"W ActivityManager: getTasks: caller 10113 does not hold REAL_GET_TASKS; limiting output",
     "security_alert"),
    (b"su[3071]: + /dev/pts/1 ubuntu:root", "admin_change"),
    (b"sshd[4410]: Starting session: shell on pts/0 for ubuntu from 10.0.0.2 port 50100 id 0",
     "login"),
    (b"ftpd[2333]: ANONYMOUS FTP LOGIN FROM 84.102.20.2,  (anonymous)", "login"),
    (b"SecurityLogger.org.apache.hadoop.ipc.Server: Auth successful for job_1445 (auth:SIMPLE)",
     "login"),
]


@pytest.mark.parametrize(("line", "category"), SESSION2)
def test_program_specific_wording_gets_its_category(line: bytes, category: str) -> None:
    """Each added built-in rule decides the line its comment names, as layer rules."""
    label = Classifier(RULES_ONLY).label(line)
    assert (label.category, label.layer) == (category, 1)


def test_a_su_to_another_user_is_not_admin_change() -> None:
    """su's `+ tty user:target` record is admin_change only when the target is root."""
    assert Classifier(RULES_ONLY).label(b"su[3071]: + /dev/pts/1 root:news").category != \
        "admin_change"


@pytest.mark.parametrize("line", [
    b"RAS KERNEL INFO generating core.2275", b"node-31 is not responding",
    b"TaskAttempt Transitioned from RUNNING to FAIL_CONTAINER_CLEANUP",
    b"Temperature (78C) exceeds warning threshold", b"Process com.x (pid 77) has died"])
def test_lines_stating_a_failure_are_recognised(line: bytes) -> None:
    """states_a_failure sees crashes, timeouts, hardware faults and failed jobs in the words."""
    assert states_a_failure(line)


@pytest.mark.parametrize("line", [
    b"Deleting block blk_-1608999687919862906 file /mnt/hadoop/dfs/data/current/subdir38",
    b"Launching attempt_1445144423722_0020_m_000002_0", b"NIFF: node node-23 has detected an "
    b"available network connection on network 5.5.224.0 via interface alt0"])
def test_routine_lines_with_drastic_verbs_state_no_failure(line: bytes) -> None:
    """Deleting, launching or detecting things is routine: no failure word in the line."""
    assert not states_a_failure(line)


@pytest.mark.parametrize(("line", "category"), [
    (b"Accepted publickey for alice from 198.51.100.4 port 50022 ssh2", "login"),
    (b"An account was successfully logged on. Logon Type: 10", "login"),
    (b"user bob signed in via SSO", "login"),
    (b"[UFW BLOCK] IN=eth0 SRC=203.0.113.9", "security_alert"),
    (b"TLS handshake error from 10.0.0.7:5512: bad certificate", "security_alert"),
    (b"useradd[812]: new user: name=backup, UID=1002", "admin_change"),
    (b"Installed: nginx-1.24.0-1.el9.x86_64", "admin_change")])
def test_lines_about_a_category_support_a_model_answer_of_it(line: bytes, category: str) -> None:
    """The words of authentication and security controls let the model's answer stand."""
    assert category in supported_categories(line)


@pytest.mark.parametrize("line", [
    b"app: hello world", b"Received block blk_123 of size 67108864 from /10.0.0.1",
    b"fresh line in new file", b"GET /index.html 200 512"])
def test_lines_about_no_authentication_or_security_support_neither(line: bytes) -> None:
    """Routine chatter holds none of the words: a model `login` or alert for it is a guess."""
    assert not {"login", "failed_login", "security_alert", "admin_change",
                "error"} & supported_categories(line)


def test_a_warn_log_level_is_not_a_failure_but_a_warning_in_words_is() -> None:
    """WARN in capitals is the severity field (judge the event); "warning" in the text counts."""
    assert not states_a_failure(b"2026-01-02 10:00:00,001 - WARN  [main:Server@12] - "
                                b"retrying connection to 10.0.0.3 (1/3)")
    assert states_a_failure(b"node-12 temperature warning")


@pytest.mark.parametrize(("line", "category"), [
    (b"app[77]: validation error: invalid user id format in request 9f2c", "error"),
    (b'grafana: msg="OAuth error: token refresh failed"', "error"),
    (b"EventID 4740: A user account was locked out. Target Account Name: svc_sql",
     "failed_login"),
    (b"mysqld: Access denied for user 'app'@'10.0.0.3' (using password: YES)", "failed_login"),
    (b"EventID 1102: The audit log was cleared. Subject: Account Name: jdoe", "security_alert"),
    (b"sshd[9]: Invalid user  from 203.0.113.9 port 4242", "failed_login"),
    (b"sshd[9]: input_userauth_request: invalid user admin [preauth]", "failed_login")])
def test_rules_tell_sshd_and_account_wording_from_look_alikes(line: bytes, category: str) -> None:
    """Found by a fresh-user trial: each of these was labelled the other way."""
    assert RuleSet([]).match(line) == category


def test_built_in_layers_judge_the_head_of_a_huge_line_and_user_rules_all_of_it() -> None:
    """A 1 MiB line is labelled from its first CLASSIFY_HEAD_BYTES (its cost is bounded);
    a user rule still matches its last bytes."""
    from agent.classify._classifier import CLASSIFY_HEAD_BYTES

    head = b"sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2 "
    huge = head + b"x" * (1 << 20)
    tail_word = b"y" * CLASSIFY_HEAD_BYTES + b" failed password"
    rules = Classifier(ClassifyConfig(model=False, cache_persist=False))
    user = Classifier(ClassifyConfig(model=False, cache_persist=False, rules=[
        Rule(pattern=r"MARKER$", category="error")]))
    try:
        assert rules.label(huge).category == "failed_login"
        assert rules.label(tail_word).category == "unclassified"  # beyond the head
        assert user.label(b"z" * (1 << 20) + b"MARKER").category == "error"
    finally:
        rules.close()
        user.close()


@pytest.mark.parametrize("line", [
    b"RAS KERNEL INFO generating core.2275",
    b"ciod: generated 128 core files for program /bgl/apps/a.out",
    b"systemd-coredump[881]: Process 4412 (nginx) of user 33 dumped core.",
    b"kernel: app[2231]: segfault at 0 ip 000055d1 sp 00007ffd error 4 in app[55d1+2000]",
    b"Kernel panic - not syncing: Fatal exception in interrupt",
    b"Traceback (most recent call last):",
    b"java.lang.OutOfMemoryError: Java heap space",
    b"kernel: Out of memory: Killed process 3312 (java) total-vm:8123456kB",
    b"abrt-hook-ccpp: Saved core dump of pid 4412 (/usr/bin/python3) to /var/spool/abrt",
    b"*** SIGSEGV (@0x0) received by PID 4412 (TID 0x7f3a) from PID 0; stack trace: ***"])
def test_crash_evidence_is_an_error_that_a_rule_decides(line: bytes) -> None:
    rules = RuleSet([])
    assert rules.match(line) == "error"
    assert rules.decides(line, "error")


@pytest.mark.parametrize("line", [
    b"payment-service: request failed: timeout after 30000 ms",
    b"HttpClient: GET https://api.example.com/v1 timed out, retrying (1/3)",
    b"nginx: connect() failed (111: Connection refused) while connecting to upstream"])
def test_broad_failure_words_are_an_error_the_model_judges(line: bytes) -> None:
    """Only crash evidence decides `error`; "failed"/"timeout" give way to the model."""
    rules = RuleSet([])
    assert rules.match(line) == "error"
    assert not rules.decides(line, "error")


def test_every_rule_of_the_four_precise_categories_decides() -> None:
    line = b"sshd[9]: Accepted publickey for alice from 198.51.100.4 port 50022 ssh2"
    assert RuleSet([]).decides(line, RuleSet([]).match(line))


def test_a_user_rule_set_decides_nothing_by_crash_evidence() -> None:
    """decides() is about the built-in rules; a set without them has no crash rule."""
    assert not RuleSet([], use_defaults=False).decides(b"dumped core", "error")


@pytest.mark.parametrize("line", [
    b"NULL HARDWARE WARNING PrepareForService shutting down Node card(mLctn(R63-M0-N2)) as part "
    b"of Service Action 343",
    b"vpxd: Host esx-07.example.com entered maintenance mode",
    b"nextcloud: Maintenance mode enabled"])
def test_an_operators_maintenance_action_is_admin_change(line: bytes) -> None:
    assert RuleSet([]).match(line) == "admin_change"


@pytest.mark.parametrize("line", [
    b"kernel: Kernel command line: BOOT_IMAGE=/vmlinuz root=/dev/vda1 console=ttyS0 panic=1",
    b"limits: core file size (blocks, -c) unlimited",
    b"sysctl: kernel.core_pattern = |/usr/lib/systemd/systemd-coredump %P %u %g",
    b"crashpad: installed SIGSEGV handler for pid 4412"])
def test_routine_lines_naming_panics_or_core_files_are_no_crash(line: bytes) -> None:
    """A boot parameter or a limit is not a crash: no rule decides these lines."""
    rules = RuleSet([])
    assert not rules.decides(line, rules.match(line))
