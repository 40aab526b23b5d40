package io.alluxiolocality.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * This application's executors by node: executor id to (advertised host, node IP), as the driver's listener learns
 * them. The file system asks it which executor hosts run on a node.
 *
 * <p>One per JVM, because Spark instantiates the listener and Hadoop the file system, each by class name, with no
 * way to hand one to the other; a JVM runs one SparkContext at a time. On an executor (where Spark may list files
 * when a query has many paths) no listener feeds it: it stays empty and the file system reports Alluxio's hosts.
 */
public final class ExecutorNodes {

    private static final ExecutorNodes INSTANCE = new ExecutorNodes();

    private record Executor(String host, String nodeIp) { }

    private final Map<String, Executor> executors = new HashMap<>();
    private final Set<String> registered = new HashSet<>();
    private boolean listening;
    private int expected;
    private long waitNanos;
    private long deadline;
    private boolean waitStarted;
    private int maxHostsPerBlock = NodeLocalHosts.SPARK_PREFERRED_HOSTS;

    ExecutorNodes() {
    }

    /** The JVM's registry. */
    public static ExecutorNodes get() {
        return INSTANCE;
    }

    /**
     * A new application's listener starts here: forget the executors of any earlier one; let listings wait, up to
     * {@code waitMillis} in all, until {@code expected} executors have registered (0: never wait); report up to
     * {@code maxHostsPerBlock} hosts per block (more when its nodes are more).
     */
    public synchronized void reset(long waitMillis, int expected, int maxHostsPerBlock) {
        executors.clear();
        registered.clear();
        listening = true;
        this.expected = expected;
        this.waitNanos = Math.max(0, waitMillis) * 1_000_000L;
        this.waitStarted = false;
        this.maxHostsPerBlock = Math.max(1, maxHostsPerBlock);
        notifyAll();
    }

    /** An executor registered; without a node IP (no attribute) it counts as registered but has no node. */
    public synchronized void added(String executorId, String host, String nodeIp) {
        registered.add(executorId);
        if (nodeIp != null && !nodeIp.isEmpty() && host != null && !host.isEmpty()) {
            executors.put(executorId, new Executor(host, nodeIp));
        }
        notifyAll();
    }

    public synchronized void removed(String executorId) {
        executors.remove(executorId);
    }

    /**
     * The advertised hosts of the executors on each of these nodes, in executor-id order, by node IP; nodes with
     * none are absent.
     */
    public synchronized Map<String, List<String>> hostsOn(Iterable<String> nodeIps) {
        Map<String, List<String>> found = new HashMap<>();
        for (String node : nodeIps) {
            List<String> hosts = new ArrayList<>();
            new TreeMap<>(executors).forEach((id, executor) -> {
                if (executor.nodeIp().equals(node) && !hosts.contains(executor.host())) {
                    hosts.add(executor.host());
                }
            });
            if (!hosts.isEmpty()) {
                found.put(node, Collections.unmodifiableList(hosts));
            }
        }
        return found;
    }

    /**
     * Called before a listing: until the expected executors have registered, waits for them, but never past a
     * deadline fixed by the first call after {@link #reset} (later calls wait only for what is left of it, so all
     * listings together are held up at most the configured time). Returns at once without a listener (an
     * executor's JVM). Returns how long it waited, in milliseconds.
     */
    public synchronized long awaitExecutors() throws InterruptedException {
        if (!listening || registered.size() >= expected) {
            return 0;
        }
        long began = System.nanoTime();
        if (!waitStarted) {
            waitStarted = true;
            deadline = began + waitNanos;
        }
        long left;
        while (registered.size() < expected && (left = deadline - System.nanoTime()) > 0) {
            wait(Math.max(1, left / 1_000_000L));
        }
        return (System.nanoTime() - began) / 1_000_000L;
    }

    /** "registered of expected" executors, for the log. */
    public synchronized String registration() {
        return registered.size() + " of " + expected;
    }

    public synchronized int maxHostsPerBlock() {
        return maxHostsPerBlock;
    }

    /** How many executors with a node are known: for the log. */
    public synchronized int size() {
        return executors.size();
    }
}
