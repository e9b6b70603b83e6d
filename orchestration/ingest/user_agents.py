"""User-agent lookup: each distinct user agent parsed once, with a crawler verdict.

Parsing uses two maintained libraries: `ua-parser` (the uap-core regexes: browser, OS,
device; device family "Spider" marks known bots) and `crawlerdetect` (a port of the
CrawlerDetect list, which also knows scripts, feed fetchers and monitors). A user agent is
a crawler when either says so. Python runs once per *distinct* value, never per row.
"""

from __future__ import annotations

from importlib.metadata import version

import duckdb
from crawlerdetect import CrawlerDetect
from ua_parser import parse

from orchestration.ingest.sources import USER_AGENTS

# The table's columns and their descriptions are in the contract (sources.py).
USER_AGENTS_DDL = USER_AGENTS.ddl()

# Where user agents appear in raw tables.
USER_AGENT_SOURCES = (
    "SELECT user_agent FROM raw.web_access WHERE _partition BETWEEN $first AND $last",
    "SELECT context->>'userAgent' FROM raw.events WHERE _partition BETWEEN $first AND $last",
)


def classify(user_agent: str, detector: CrawlerDetect) -> tuple:
    result = parse(user_agent)
    ua, os, device = result.user_agent, result.os, result.device
    spider = device is not None and device.family == "Spider"
    listed = detector.isCrawler(user_agent)
    crawler_name = (detector.getMatches() or None) if listed else None
    if spider and crawler_name is None:
        crawler_name = ua.family if ua else None
    return (
        user_agent,
        spider or listed,
        crawler_name,
        ua.family if ua else None,
        ua.major if ua else None,
        os.family if os else None,
        os.major if os else None,
        device.family if device else None,
        device.brand if device else None,
        device.model if device else None,
    )


def parser_versions() -> str:
    return f"ua-parser {version('ua-parser')}, crawlerdetect {version('crawlerdetect')}"


def update_user_agents(con: duckdb.DuckDBPyConnection, first: object, last: object) -> int:
    """Add the user agents first seen in partitions [first, last]; returns how many."""
    con.execute(USER_AGENTS_DDL)
    union = " UNION ".join(USER_AGENT_SOURCES)
    new = con.execute(
        f"""
        SELECT DISTINCT user_agent FROM ({union}) AS seen(user_agent)
        WHERE user_agent IS NOT NULL
          AND user_agent NOT IN (SELECT user_agent FROM raw.user_agents)
        ORDER BY user_agent
        """,
        {"first": first, "last": last},
    ).fetchall()
    detector = CrawlerDetect()
    parsed_by = parser_versions()
    rows = [(*classify(ua, detector), parsed_by) for (ua,) in new]
    if rows:
        con.executemany(
            "INSERT INTO raw.user_agents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)
