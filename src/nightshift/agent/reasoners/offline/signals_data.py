"""Security and database signatures: certificates, credentials, WAF blocks,
locks, slow queries, full disks, replication lag, schema errors, a server down."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.matching import SignalPattern
from nightshift.agent.reasoners.offline.matching import compile_pattern as _p

K8S, LOG, DB, SEC, ALERT = "k8s", "log", "db", "sec", "alert"

DATA_PATTERNS: tuple[SignalPattern, ...] = (
    # security
    _p(
        "cert-expired",
        r"x509: certificate has expired|certificate has expired|"
        r"certificate verify failed|SSL certificate expired|"
        r"certificate (is )?expired|tls: bad certificate|CERTIFICATE_VERIFY_FAILED|"
        r"CERTIFICATE_EXPIRED|cert(ificate)? (has )?expired|"
        r"certificate.*not yet valid",
        LOG,
        SEC,
        ALERT,
        K8S,
    ),
    _p(
        "auth-failed",
        r"password authentication failed|Access denied for user|"
        r"invalid (credentials|password|token)|401 Unauthorized|"
        r"\b401\b|token (has )?expired|authentication failed|"
        r"auth(entication)? failure|login failed",
        LOG,
        SEC,
        ALERT,
    ),
    _p("waf-block", r"\bWAF\b|blocked by security rule|IDS block", SEC, ALERT),
    # database
    _p(
        "db-locks",
        r"deadlock detected|lock wait timeout|Lock wait timeout exceeded|"
        r"waiting for (a )?lock|blocked by (pid|process)|locks? waiting",
        LOG,
        DB,
        ALERT,
    ),
    _p(
        "db-slow",
        r"slow quer|statement timeout|canceling statement due to|"
        r"seq(uential)? scan|missing index|full table scan|query (took|"
        r"duration)|long.running quer",
        LOG,
        DB,
        ALERT,
    ),
    _p(
        "db-disk",
        r"No space left on device|could not extend file|disk (is )?full|ENOSPC",
        LOG,
        DB,
        ALERT,
        K8S,
    ),
    _p(
        "db-replication",
        # a lag read-out is only a finding when it is large ("replication lag: 0.3s" is healthy)
        r"replication lag (is |of )?(high|growing|increasing|above|exceed)|"
        r"replication lag:? *([1-9]\d+(\.\d+)? *s\b|\d+(\.\d+)? *(min|minutes|h|hours)\b)|"
        r"replica(tion)? (is )?(lagging|behind|delayed)|"
        r"seconds_behind_master|Seconds_Behind",
        LOG,
        DB,
        ALERT,
    ),
    _p(
        "schema-error",
        r"column \"?[\w.]+\"? does not exist|relation \"?[\w.]+\"? does not exist|"
        r"Unknown column|no such table|no such column|syntax error at or near|"
        r"undefined column|migration (failed|error)",
        LOG,
        DB,
    ),
    _p(
        "db-down",
        r"could not connect to (server|database)|database .* (is )?(unavailable|"
        r"down)|Unable to connect to (the )?database|Can't connect to MySQL|"
        r"connection to database failed",
        LOG,
        DB,
        ALERT,
    ),
)
