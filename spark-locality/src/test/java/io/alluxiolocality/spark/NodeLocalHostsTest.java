package io.alluxiolocality.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class NodeLocalHostsTest {

    private static final Map<String, List<String>> EXECUTORS = Map.of(
            "10.0.0.1", List.of("192.168.1.1", "192.168.1.2"),
            "10.0.0.2", List.of("192.168.2.1", "192.168.2.2"),
            "10.0.0.3", List.of("192.168.3.1", "192.168.3.2"),
            "10.0.0.4", List.of("192.168.4.1", "192.168.4.2", "192.168.4.3", "192.168.4.4"));

    private static String[] hosts(String... blockHosts) {
        return NodeLocalHosts.hostsFor(blockHosts, EXECUTORS, 3, 0);
    }

    @Test
    void aBlockOnOneNodeIsReportedOnThatNodesExecutors() {
        assertArrayEquals(new String[] {"192.168.1.1", "192.168.1.2"}, hosts("10.0.0.1"));
    }

    @Test
    void aNodeWithoutKnownExecutorsKeepsItsOwnHost() {
        assertArrayEquals(new String[] {"10.0.0.9"}, hosts("10.0.0.9"));
        assertArrayEquals(new String[] {"10.0.0.9", "192.168.1.1", "192.168.1.2"}, hosts("10.0.0.9", "10.0.0.1"));
    }

    @Test
    void everyNodeHoldingTheBlockKeepsAnExecutorWithinTheCap() {
        // 6 executors on 3 nodes, 3 hosts: one executor of each node, not both of the first two nodes
        assertArrayEquals(new String[] {"192.168.1.1", "192.168.2.1", "192.168.3.1"},
                hosts("10.0.0.1", "10.0.0.2", "10.0.0.3"));
        // then a node's second executor, while the cap allows
        assertArrayEquals(new String[] {"192.168.1.1", "192.168.2.1", "192.168.1.2"}, hosts("10.0.0.1", "10.0.0.2"));
    }

    @Test
    void moreNodesThanTheCapAreAllKept() {
        assertEquals(4, hosts("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4").length);
    }

    @Test
    void aNodesBlocksAreSpreadOverItsExecutors() {
        Set<String> first = new HashSet<>();
        for (long spread = 0; spread < 4; spread++) {
            String[] found = NodeLocalHosts.hostsFor(new String[] {"10.0.0.4"}, EXECUTORS, 3, spread);
            assertEquals(3, found.length);
            first.add(found[0]);
        }
        assertEquals(Set.copyOf(EXECUTORS.get("10.0.0.4")), first);
    }

    @Test
    void aHostReportedTwiceCountsOnce() {
        assertArrayEquals(new String[] {"192.168.1.1", "192.168.1.2"}, hosts("10.0.0.1", "10.0.0.1"));
    }
}
