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
 * <li>{@value #FIRST_EXECUTOR_WAIT}: how long the first listing may wait for an executor when none has
 * registered yet (default {@value #DEFAULT_WAIT}; none with dynamic allocation starting from 0 executors,
 * as none comes before a job asks);</li>
 * <li>{@value #MAX_HOSTS}: hosts reported per block (default 3, what Spark keeps per file partition).</li>
 * </ul>
 */
public class ExecutorNodeListener extends SparkListener {

    public static final String ATTRIBUTE = "spark.alluxio.locality.nodeAttribute";
    public static final String FIRST_EXECUTOR_WAIT = "spark.alluxio.locality.firstExecutorWait";
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
        long wait = startsWithoutExecutors(conf) ? 0 : conf.getTimeAsMs(FIRST_EXECUTOR_WAIT, DEFAULT_WAIT);
        nodes.reset(wait, conf.getInt(MAX_HOSTS, NodeLocalHosts.SPARK_PREFERRED_HOSTS));
        LOG.info("Alluxio block hosts reported on executors by their attribute {} (first listing waits up to {} ms "
                + "for an executor)", attribute, wait);
    }

    /** Dynamic allocation with no initial executors: Spark's own rule, max of min, initial and instances. */
    private static boolean startsWithoutExecutors(SparkConf conf) {
        if (!conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            return false;
        }
        int initial = Math.max(conf.getInt("spark.dynamicAllocation.minExecutors", 0),
                Math.max(conf.getInt("spark.dynamicAllocation.initialExecutors", 0),
                        conf.getInt("spark.executor.instances", 0)));
        return initial == 0;
    }

    @Override
    public void onExecutorAdded(SparkListenerExecutorAdded event) {
        ExecutorInfo info = event.executorInfo();
        Option<String> node = info.attributes().get(attribute);
        if (node.isDefined()) {
            nodes.added(event.executorId(), info.executorHost(), node.get());
        } else {
            LOG.info("executor {} on {} has no attribute {}: its tasks get Spark's usual locality",
                    event.executorId(), info.executorHost(), attribute);
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved event) {
        nodes.removed(event.executorId());
    }
}
