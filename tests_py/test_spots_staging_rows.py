"""Issue 12 point 10: SPOTS raw rows with impossible timestamps, blank user ids and repeated
event ids are quarantined or de-duplicated with a reason, and reconciliation still proves
raw = staged + held back + quarantined + duplicates. One small DuckDB build of the staging
models only."""

from __future__ import annotations

import duckdb
import pygeohash

from harness import DbtProject

FAR = (-80.0, 10.0)  # a place no generated row is near (Antarctica): its geohash3 marks the crafted rows
ROWS = [
    # event_id, user_id, occurred_at, ingested_at, category, expected quarantine reason
    (
        "x-2099",
        "usr_crafted_00001",
        "2099-06-01 12:00:00+00",
        "2026-10-01 00:00:00+00",
        "coffee",
        "occurred_at: after as_of (in the future)",
    ),
    (
        "x-inf",
        "usr_crafted_00001",
        "infinity",
        "2026-10-01 00:00:00+00",
        "coffee",
        "occurred_at: not a finite timestamp",
    ),
    (
        "x-ninf",
        "usr_crafted_00001",
        "-infinity",
        "2026-10-01 00:00:00+00",
        "coffee",
        "occurred_at: not a finite timestamp",
    ),
    (
        "x-year1",
        "usr_crafted_00001",
        "0001-01-01 00:00:00+00",
        "2026-10-01 00:00:00+00",
        "coffee",
        "occurred_at: before 2000-01-01",
    ),
    ("x-tab", "\t", "2026-10-05 10:00:00+00", "2026-10-05 10:05:00+00", "coffee", "user_id: missing"),
    ("x-nbsp", "\u00a0\u200b\u3000", "2026-10-05 10:00:00+00", "2026-10-05 10:05:00+00", "coffee", "user_id: missing"),
    ("x-blank-id", "usr_crafted_00001", "2026-10-05 10:00:00+00", "2026-10-05 10:05:00+00", "coffee", None),
    # dup-1: three copies; the first by ingested_at (occurred on the 6th) is kept
    ("dup-1", "usr_crafted_00002", "2026-10-05 11:00:00+00", "2026-10-08 10:00:00+00", "coffee", None),
    ("dup-1", "usr_crafted_00003", "2026-10-06 11:00:00+00", "2026-10-08 09:00:00+00", "coffee", None),
    ("dup-1", "usr_crafted_00004", "2026-10-07 11:00:00+00", "2026-10-08 11:00:00+00", "coffee", None),
    # dup-2: same ingested_at; the tie is broken by occurred_at (the 9th is kept)
    ("dup-2", "usr_crafted_00005", "2026-10-10 11:00:00+00", "2026-10-12 00:00:00+00", "coffee", None),
    ("dup-2", "usr_crafted_00005", "2026-10-09 11:00:00+00", "2026-10-12 00:00:00+00", "coffee", None),
    # dup-3: the earlier copy breaks a rule (quarantined); the valid later copy is staged
    (
        "dup-3",
        "usr_crafted_00006",
        "2026-10-13 11:00:00+00",
        "2026-10-14 00:00:00+00",
        "gambling",
        "category: not in seed categories",
    ),
    ("dup-3", "usr_crafted_00006", "2026-10-15 11:00:00+00", "2026-10-16 00:00:00+00", "coffee", None),
]


def test_bad_timestamps_blank_users_and_repeated_event_ids(dev_project: DbtProject):
    dev_project.generate("--events", "2000", "--seed", "12", "--tables", "spots")
    con = duckdb.connect(dev_project.env["PRIVACY_INSIGHTS_DUCKDB"])
    rows = [
        (" \u200b" if event_id == "x-blank-id" else event_id, user, occurred, ingested, category)
        for event_id, user, occurred, ingested, category, _ in ROWS
    ]
    con.executemany(
        "insert into raw.spots_interaction_events (event_id, user_id, event_type, door_type, category, occurred_at, "
        "latitude, longitude, ingested_at) values (?, ?, 'door_opened', 'spot', ?, cast(? as timestamptz), "
        f"{FAR[0]}, {FAR[1]}, cast(? as timestamptz))",
        [(e, u, c, o, i) for e, u, o, i, c in rows],
    )
    raw_count = con.execute("select count(*) from raw.spots_interaction_events").fetchone()[0]
    con.close()
    dev_project.dbt(
        "build",
        "--select",
        "+stg_spots__interaction_events",
        "+stg_spots__interaction_events_quarantine",
        "+stg_spots__interaction_events_duplicates",
        "+stg_spots__interaction_events_first_copies",  # reconcile_spots_staging checks it too
        "reconcile_spots_staging",
        "--indirect-selection",
        "cautious",
    )

    reasons = dev_project.query(
        "select event_id, rejection_reason from staging.stg_spots__interaction_events_quarantine"
    )
    for event_id, _, _, _, _, reason in ROWS:
        if reason and event_id != "dup-3":
            assert (event_id, reason) in reasons, (event_id, reason)
    assert (" \u200b", "event_id: missing") in reasons, "an event_id of blanks is missing too"
    assert ("dup-3", "category: not in seed categories") in reasons

    duplicates = dev_project.query(
        "select event_id, ingested_at, reason from staging.stg_spots__interaction_events_duplicates "
        "order by event_id, ingested_at"
    )
    assert len(duplicates) > 3, "the generator's repeated event ids are there too"
    assert [(e, str(i)[:19]) for e, i, _ in duplicates if e.startswith("dup-")] == [
        ("dup-1", "2026-10-08 10:00:00"),
        ("dup-1", "2026-10-08 11:00:00"),
        ("dup-2", "2026-10-12 00:00:00"),
    ]
    assert {r for _, _, r in duplicates} == {"event_id: duplicate (the first copy by ingested_at is kept)"}
    assert [c for c, _ in dev_project.columns("staging", "stg_spots__interaction_events_duplicates")] == [
        "event_id",
        "ingested_at",
        "reason",
        "occurred_day",  # the UTC day only (its incremental key), as staging's day_start
    ], "no personal data in the duplicates model"

    kept = dev_project.query(
        "select cast(day_start as date)::varchar from staging.stg_spots__interaction_events "
        f"where geohash3 = '{pygeohash.encode(*FAR, precision=3)}' order by 1"
    )
    assert kept == [("2026-10-06",), ("2026-10-09",), ("2026-10-15",)], "first copy by ingested_at, stable ties"

    staged = dev_project.query("select count(*) from staging.stg_spots__interaction_events")[0][0]
    quarantined = len(reasons)
    assert raw_count > staged + quarantined + len(duplicates), "the rest are held back by the release delay"
