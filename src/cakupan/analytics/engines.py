"""Run the national report on DuckDB (embedded, the default) or Spark (scale-out).

Both engines get the same tables under the same names (the snapshot's Parquet files plus the
small ``months`` and ``ages`` tables) and run the same SQL texts from
:mod:`cakupan.analytics.report`; only the loading differs. Spark runs in local mode here
(``local[2]``) or wherever ``--spark-master`` points; it needs a Java runtime and the
``pyspark`` package (``pip install 'cakupan[spark]'``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from importlib import resources
from typing import Any, Literal

import duckdb

from cakupan.analytics.report import (
    AGES,
    COHORT_SQL,
    NAMES_SQL,
    REGENCY_SQL,
    STAGES,
    Window,
    assemble,
    monthly_sql,
)
from cakupan.analytics.snapshot import TABLES, Snapshot
from cakupan.errors import CakupanError, ErrorKind
from cakupan.i18n import t

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")

Query = Callable[[str], list[Sequence[Any]]]


def _run_all(
    query: Query, window: Window
) -> tuple[list[Any], list[Any], list[Any], dict[str, dict[str, str]]]:
    names = {
        key: {str(code): str(name) for code, name in query(sql)} for key, sql in NAMES_SQL.items()
    }
    return query(monthly_sql(window)), query(COHORT_SQL), query(REGENCY_SQL), names


def _months_values(window: Window) -> str:
    return ", ".join(
        f"({m}, DATE '{first.isoformat()}', DATE '{last.isoformat()}')"
        for m, first, last in window.rows()
    )


#: DuckDB's own memory ceiling for the report (it spills to a temporary directory beyond it):
#: the process stays within the 4 GiB the national report is allowed (issue #22).
DUCKDB_MEMORY_LIMIT = "3GB"


def run_duckdb(snapshot: Snapshot, window: Window) -> dict[str, Any]:
    started = time.perf_counter()
    scratch = tempfile.TemporaryDirectory(prefix="cakupan-duckdb-")
    con = duckdb.connect(
        config={
            "memory_limit": DUCKDB_MEMORY_LIMIT,
            "temp_directory": scratch.name,
            "preserve_insertion_order": False,
        }
    )
    try:
        for table in TABLES:
            con.execute(
                f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet("
                f"'{snapshot.file(table.name)}')"
            )
        con.execute(
            "CREATE TABLE months AS SELECT * FROM (VALUES "
            f"{_months_values(window)}) t(m, first_day, last_day)"
        )
        ages = ", ".join(f"({n})" for n in AGES)
        con.execute(f"CREATE TABLE ages AS SELECT * FROM (VALUES {ages}) t(n)")
        for name, sql in STAGES:
            con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
        loaded = time.perf_counter()

        def query(sql: str) -> list[Sequence[Any]]:
            return list(con.execute(sql).fetchall())

        parts = _run_all(query, window)
    finally:
        con.close()
        scratch.cleanup()
    done = time.perf_counter()
    return _document("duckdb", window, parts, loaded - started, done - loaded)


def run_spark(snapshot: Snapshot, window: Window, *, master: str = "local[2]") -> dict[str, Any]:
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql.types import DateType, IntegerType, StructField, StructType
    except ImportError:
        raise CakupanError(
            title=t(
                "Spark tidak terpasang: pasang dengan pip install 'cakupan[spark]' "
                "(butuh Java 17 atau lebih baru)",
                "Spark is not installed: pip install 'cakupan[spark]' (needs Java 17 or newer)",
            ),
            kind=ErrorKind.INVALID,
            code="analytics.spark_missing",
        ) from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise CakupanError(
            title=t(
                "Spark butuh Java 17 atau lebih baru: tidak ada 'java' di PATH dan JAVA_HOME "
                "kosong",
                "Spark needs Java 17 or newer: no 'java' on PATH and JAVA_HOME is not set",
            ),
            kind=ErrorKind.INVALID,
            code="analytics.java_missing",
        )
    started = time.perf_counter()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log_config = resources.files("cakupan.analytics") / "data" / "log4j2-spark.properties"
    spark = (
        SparkSession.builder.master(master)
        .appName("cakupan-national")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in TABLES:
        spark.read.parquet(str(snapshot.file(table.name))).createOrReplaceTempView(table.name)
    spark.createDataFrame(
        window.rows(),
        StructType(
            [
                StructField("m", IntegerType(), False),
                StructField("first_day", DateType(), False),
                StructField("last_day", DateType(), False),
            ]
        ),
    ).createOrReplaceTempView("months")
    spark.createDataFrame(
        [(n,) for n in AGES], StructType([StructField("n", IntegerType(), False)])
    ).createOrReplaceTempView("ages")
    for name, sql in STAGES:
        spark.sql(sql).createOrReplaceTempView(name)
    loaded = time.perf_counter()

    def query(sql: str) -> list[Sequence[Any]]:
        return [tuple(row) for row in spark.sql(sql).collect()]

    parts = _run_all(query, window)
    done = time.perf_counter()
    return _document("spark", window, parts, loaded - started, done - loaded)


def _document(
    engine: EngineName,
    window: Window,
    parts: tuple[list[Any], list[Any], list[Any], dict[str, dict[str, str]]],
    load_s: float,
    query_s: float,
) -> dict[str, Any]:
    monthly, cohorts, regencies, names = parts
    return {
        "engine": engine,
        **assemble(window, monthly, cohorts, regencies, names),
        "timings": {"load_s": round(load_s, 3), "query_s": round(query_s, 3)},
    }


def national_report(
    snapshot: Snapshot,
    *,
    engine: EngineName = "duckdb",
    months: int = 12,
    as_of: date | None = None,
    spark_master: str = "local[2]",
) -> dict[str, Any]:
    """The national report over ``months`` complete months ending at ``as_of`` (default: the
    snapshot date; never later than it)."""
    end = min(as_of or snapshot.as_of, snapshot.as_of)
    window = Window.ending(end, months)
    if engine == "spark":
        document = run_spark(snapshot, window, master=spark_master)
    else:
        document = run_duckdb(snapshot, window)
    return {"as_of": end.isoformat(), "snapshot": snapshot.as_json(), **document}
