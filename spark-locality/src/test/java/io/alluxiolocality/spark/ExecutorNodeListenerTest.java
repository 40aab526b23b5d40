package io.alluxiolocality.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.junit.jupiter.api.Test;

/**
 * The listener fed Spark's own event objects, as the driver's listener bus delivers them. Run against the jars of a
 * real Spark (build.sh runs it with Spark 4.3's and with 3.5's, so Scala 2.13 and 2.12): SparkConf needs far more of
 * Spark than this module compiles against.
 */
class ExecutorNodeListenerTest {

    /** The event as an event log holds it, read by Spark's own JsonProtocol (the same in Spark 3.5 and 4). */
    private static SparkListenerExecutorAdded added(String id, String host, String attribute, String value) {
        String attributes = attribute == null ? "{}" : "{\"" + attribute + "\":\"" + value + "\"}";
        String json = "{\"Event\":\"SparkListenerExecutorAdded\",\"Timestamp\":0,\"Executor ID\":\"" + id + "\","
                + "\"Executor Info\":{\"Host\":\"" + host + "\",\"Total Cores\":1,\"Log Urls\":{},"
                + "\"Attributes\":" + attributes + ",\"Resources\":{},\"Resource Profile Id\":0}}";
        try {
            // by name: its overloads name Jackson types, which this module does not compile against
            Method parse = Class.forName("org.apache.spark.util.JsonProtocol").getMethod("sparkEventFromJson",
                    String.class);
            return (SparkListenerExecutorAdded) parse.invoke(null, json);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void executorsAreMappedToTheNodeOfTheirAttribute() {
        ExecutorNodes nodes = new ExecutorNodes();
        ExecutorNodeListener listener = new ExecutorNodeListener(new SparkConf(false), nodes);
        listener.onExecutorAdded(added("1", "192.168.1.1", "NODE_IP", "10.0.0.1"));
        listener.onExecutorAdded(added("2", "192.168.2.1", "NODE_IP", "10.0.0.2"));
        listener.onExecutorAdded(added("3", "192.168.3.1", null, null));
        assertEquals(Map.of("10.0.0.1", List.of("192.168.1.1"), "10.0.0.2", List.of("192.168.2.1")),
                nodes.hostsOn(List.of("10.0.0.1", "10.0.0.2", "192.168.3.1")));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(1L, "1", "test"));
        assertEquals(Map.of("10.0.0.2", List.of("192.168.2.1")), nodes.hostsOn(List.of("10.0.0.1", "10.0.0.2")));
    }

    @Test
    void theAttributeAndCapAreSettings() {
        ExecutorNodes nodes = new ExecutorNodes();
        SparkConf conf = new SparkConf(false).set(ExecutorNodeListener.ATTRIBUTE, "kube_node")
                .set(ExecutorNodeListener.MAX_HOSTS, "5");
        ExecutorNodeListener listener = new ExecutorNodeListener(conf, nodes);
        listener.onExecutorAdded(added("1", "192.168.1.1", "NODE_IP", "10.0.0.1"));
        listener.onExecutorAdded(added("2", "192.168.2.1", "KUBE_NODE", "10.0.0.2"));
        assertEquals(Map.of("10.0.0.2", List.of("192.168.2.1")), nodes.hostsOn(List.of("10.0.0.1", "10.0.0.2")));
        assertEquals(5, nodes.maxHostsPerBlock());
    }

    @Test
    void listingsWaitForTheExecutorsSparkWaitsFor() {
        ExecutorNodes nodes = new ExecutorNodes();
        SparkConf conf = new SparkConf(false).set("spark.executor.instances", "3")
                .set("spark.scheduler.minRegisteredResourcesRatio", "0.5").set(ExecutorNodeListener.WAIT, "1h");
        ExecutorNodeListener listener = new ExecutorNodeListener(conf, nodes);
        listener.onExecutorAdded(added("1", "192.168.1.1", "NODE_IP", "10.0.0.1"));
        Thread registers = new Thread(() -> listener.onExecutorAdded(added("2", "192.168.2.1", null, null)));
        registers.start();
        // ceil(3 * 0.5) = 2 executors, the second without a node
        assertTimeoutPreemptively(Duration.ofSeconds(30), nodes::awaitExecutors);
    }

    @Test
    void dynamicAllocationFromNoExecutorsNeverWaits() {
        ExecutorNodes nodes = new ExecutorNodes();
        SparkConf conf = new SparkConf(false).set("spark.dynamicAllocation.enabled", "true")
                .set(ExecutorNodeListener.WAIT, "1h");
        new ExecutorNodeListener(conf, nodes);
        assertTimeoutPreemptively(Duration.ofSeconds(30), nodes::awaitExecutors);
    }
}
