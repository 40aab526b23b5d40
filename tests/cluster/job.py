"""The one-box cluster's Spark application: counts the lines of every file under its alluxio:// input (the one
argument examples/spark/spark-submit.sh passes). The comparison sets spark.sql.files.maxPartitionBytes and
openCostInBytes to the file size, so each file is one task.
"""
import sys

from pyspark.sql import SparkSession

source = sys.argv[1]
spark = SparkSession.builder.appName("one-box-count").getOrCreate()
lines = spark.read.option("recursiveFileLookup", "true").text(source).count()
print(f"one-box-count: {lines} lines in {source}", flush=True)
spark.stop()
