package io.alluxiolocality.spark;

import java.util.Locale;

import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.cluster.ExecutorInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import scala.Option;

/**
 * Feeds ExecutorNodes from the driver's executor events: each executor's advertised host (on Kubernetes its pod
 * IP) and its node, the executor attribute {@code NODE_IP}, which an executor reports when its environment has
 * {@code SPARK_EXECUTOR_ATTRIBUTE_NODE_IP} (on Kubernetes from status.hostIP through the pod template). Set it with
 * {@code spark.extraListeners}; Spark constructs it with the application's SparkConf, which configures it:
 * <ul>
 * <li>{@value #ATTRIBUTE}: the attribute naming the node (default {@value #DEFAULT_ATTRIBUTE});</li>
 * <li>{@value #WAIT}: how long listings may wait, in all, for the executors Spark itself waits for before
 * its first job ({@code spark.scheduler.minRegisteredResourcesRatio} of {@code spark.executor.instances}, at least
 * one), when they have not registered yet (default {@value #DEFAULT_WAIT}; no wait with dynamic allocation
 * starting from 0 executors, as none comes before a job asks for it);</li>
 * <li>{@value #MAX_HOSTS}: hosts reported per block (default 3, what Spark keeps per file partition).</li>
 * </ul>
 */
public class ExecutorNodeListener extends SparkListener {

    public static final String ATTRIBUTE = "spark.alluxio.locality.nodeAttribute";
    public static final String WAIT = "spark.alluxio.locality.executorWait";
    public static final String MAX_HOSTS = "spark.alluxio.locality.maxHostsPerBlock";
    static final String DEFAULT_ATTRIBUTE = "NODE_IP";
    static final String DEFAULT_WAIT = "10s";

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorNodeListener.class);

    private final String attribute;
    private final ExecutorNodes nodes;

    public ExecutorNodeListener(SparkConf conf) {
        this(conf, ExecutorNodes.get());
    }

    ExecutorNodeListener(SparkConf conf, ExecutorNodes nodes) {
        // Spark upper-cases attribute names (CoarseGrainedExecutorBackend.extractAttributes)
        this.attribute = conf.get(ATTRIBUTE, DEFAULT_ATTRIBUTE).toUpperCase(Locale.ROOT);
        this.nodes = nodes;
        int instances = initialExecutors(conf);
        boolean none = instances == 0 && conf.getBoolean("spark.dynamicAllocation.enabled", false);
        int expected = none ? 0 : Math.max(1, (int) Math.ceil(instances * registeredRatio(conf)));
        long wait = none ? 0 : conf.getTimeAsMs(WAIT, DEFAULT_WAIT);
        nodes.reset(wait, expected, conf.getInt(MAX_HOSTS, NodeLocalHosts.SPARK_PREFERRED_HOSTS));
        LOG.info("Alluxio block hosts reported on executors by their attribute {} (listings wait up to {} ms for "
                + "{} executors)", attribute, wait, expected);
    }

    /** Spark's count of the executors it starts with: with dynamic allocation the max of min, initial and
     * instances, else the instances (0 where unset, as in standalone mode). */
    private static int initialExecutors(SparkConf conf) {
        int instances = conf.getInt("spark.executor.instances", 0);
        if (!conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            return instances;
        }
        return Math.max(instances, Math.max(conf.getInt("spark.dynamicAllocation.minExecutors", 0),
                conf.getInt("spark.dynamicAllocation.initialExecutors", 0)));
    }

    /** spark.scheduler.minRegisteredResourcesRatio: 0.8 is Kubernetes' and YARN's default. */
    private static double registeredRatio(SparkConf conf) {
        return Math.min(1.0, Math.max(0.0, conf.getDouble("spark.scheduler.minRegisteredResourcesRatio", 0.8)));
    }

    @Override
    public void onExecutorAdded(SparkListenerExecutorAdded event) {
        ExecutorInfo info = event.executorInfo();
        Option<String> node = info.attributes().get(attribute);
        nodes.added(event.executorId(), info.executorHost(), node.isDefined() ? node.get() : null);
        if (!node.isDefined()) {
            LOG.info("executor {} on {} has no attribute {}: its tasks get Spark's usual locality",
                    event.executorId(), info.executorHost(), attribute);
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved event) {
        nodes.removed(event.executorId());
    }
}
