"""The Spark application the locality tests submit (spark-submit, client mode): sums the bytes of every file under
an alluxio:// directory, read whole by Spark's binaryFile source, and writes what it measured as JSON.

    spark-submit ... job.py alluxio://127.0.0.1:19998/input result.json

Its partitions are one file each (spark.sql.files.maxPartitionBytes and openCostInBytes at the file size, set by
the submitter), so each task reads one file, cached on one Alluxio worker. After the job it stays up a few seconds,
so that the executors' Alluxio clients report their last read counters to the master before they exit.
"""
from __future__ import annotations

import json
import sys
import time

from pyspark.sql import SparkSession

REPORT_SECONDS = 3.0
"""Longer than a few of the clients' metrics heartbeats (the submitter sets them to 100 ms)."""


def main(source: str, result: str) -> None:
    spark = SparkSession.builder.getOrCreate()
    began = time.monotonic()
    files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(source)
    listed = time.monotonic()
    total = files.selectExpr("sum(length(content)) AS bytes").collect()[0]["bytes"]
    done = time.monotonic()
    time.sleep(REPORT_SECONDS)
    with open(result, "w") as out:
        json.dump({"bytes": total, "listing_seconds": listed - began, "job_seconds": done - listed,
                   "app_id": spark.sparkContext.applicationId}, out)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
