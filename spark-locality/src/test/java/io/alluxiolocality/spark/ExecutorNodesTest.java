package io.alluxiolocality.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ExecutorNodesTest {

    /** Far longer than any wait a test expects to end, far shorter than the waits it must not sit through. */
    private static final Duration HANG = Duration.ofSeconds(30);

    @Test
    void executorsAreFoundByTheirNode() {
        ExecutorNodes nodes = new ExecutorNodes();
        nodes.reset(0, 0, 3);
        nodes.added("2", "192.168.1.2", "10.0.0.1");
        nodes.added("1", "192.168.1.1", "10.0.0.1");
        nodes.added("3", "192.168.2.1", "10.0.0.2");
        nodes.added("4", "192.168.9.9", null);
        assertEquals(Map.of("10.0.0.1", List.of("192.168.1.1", "192.168.1.2"), "10.0.0.2", List.of("192.168.2.1")),
                nodes.hostsOn(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3")));
        nodes.removed("1");
        assertEquals(Map.of("10.0.0.1", List.of("192.168.1.2")), nodes.hostsOn(List.of("10.0.0.1")));
    }

    @Test
    void aNewApplicationForgetsTheExecutorsOfTheLastOne() {
        ExecutorNodes nodes = new ExecutorNodes();
        nodes.reset(0, 0, 3);
        nodes.added("1", "192.168.1.1", "10.0.0.1");
        nodes.reset(0, 0, 2);
        assertEquals(Map.of(), nodes.hostsOn(List.of("10.0.0.1")));
        assertEquals(2, nodes.maxHostsPerBlock());
    }

    @Test
    void withoutAListenerNothingWaits() {
        // an executor's JVM: no listener ever resets the registry, however long the configured wait
        ExecutorNodes nodes = new ExecutorNodes();
        assertTimeoutPreemptively(HANG, nodes::awaitExecutors);
    }

    @Test
    void theExpectedExecutorsEndTheWaitWithOrWithoutANode() {
        ExecutorNodes nodes = new ExecutorNodes();
        nodes.reset(Duration.ofHours(1).toMillis(), 2, 3);
        Thread registers = new Thread(() -> {
            sleep(200);
            nodes.added("1", "192.168.1.1", "10.0.0.1");
            sleep(200);
            nodes.added("2", "192.168.2.1", null);
        });
        registers.start();
        assertTimeoutPreemptively(HANG, nodes::awaitExecutors);
        assertEquals(1, nodes.size());
        assertEquals("2 of 2", nodes.registration());
    }

    @Test
    void listingsTogetherWaitNoLongerThanTheBound() {
        ExecutorNodes nodes = new ExecutorNodes();
        long bound = 500;
        nodes.reset(bound, 1, 3);
        assertTimeoutPreemptively(HANG, nodes::awaitExecutors);
        assertEquals("0 of 1", nodes.registration());
        // the bound is spent: a later listing does not wait it again, though there is still no executor
        long waited = assertTimeoutPreemptively(HANG, nodes::awaitExecutors);
        assertTrue(waited < bound, "second listing waited " + waited + " ms");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
