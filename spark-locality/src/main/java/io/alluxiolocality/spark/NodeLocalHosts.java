package io.alluxiolocality.spark;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The hosts one block is reported on: for each node whose Alluxio worker holds it (Alluxio reports the worker's
 * host, the node IP), the hosts this application's executors on that node advertise (their pod IPs), which are the
 * strings Spark's TaskSetManager compares with an executor's host; a node without a known executor keeps its own
 * host, as Alluxio reported it, so an unknown node degrades to what Spark does today.
 *
 * <p>Spark keeps a file partition's {@value #SPARK_PREFERRED_HOSTS} hosts holding the most bytes
 * (FilePartition.preferredLocations), so a block's hosts are capped: at least one per node holding it (so no node
 * is dropped for another node's second executor), then the nodes' other executors in turn up to the cap. Which of
 * a node's executors come first turns with the block ({@code spread}), so the blocks of a node are spread over
 * its executors rather than all preferring the first.
 */
final class NodeLocalHosts {

    /** How many hosts Spark keeps per file partition (FilePartition.preferredLocations takes 3). */
    static final int SPARK_PREFERRED_HOSTS = 3;

    private NodeLocalHosts() {
    }

    /**
     * @param blockHosts the hosts Alluxio reported for the block (worker hosts: node IPs)
     * @param executorsByNode the executor hosts known on each node (nodes without any absent)
     * @param maxHosts the cap, raised to the number of nodes holding the block
     * @param spread any number that differs between blocks (the block's offset and file)
     */
    static String[] hostsFor(String[] blockHosts, Map<String, List<String>> executorsByNode, int maxHosts,
                             long spread) {
        List<List<String>> perNode = new ArrayList<>();
        for (String node : new LinkedHashSet<>(List.of(blockHosts))) {
            List<String> executors = executorsByNode.get(node);
            if (executors == null || executors.isEmpty()) {
                perNode.add(List.of(node));
            } else {
                int turn = (int) Math.floorMod(spread, (long) executors.size());
                List<String> rotated = new ArrayList<>(executors.subList(turn, executors.size()));
                rotated.addAll(executors.subList(0, turn));
                perNode.add(rotated);
            }
        }
        int limit = Math.max(maxHosts, perNode.size());
        LinkedHashSet<String> chosen = new LinkedHashSet<>();
        for (int round = 0; chosen.size() < limit; round++) {
            boolean more = false;
            for (List<String> hosts : perNode) {
                if (round < hosts.size() && chosen.size() < limit) {
                    chosen.add(hosts.get(round));
                    more = true;
                }
            }
            if (!more) {
                break;
            }
        }
        return chosen.toArray(new String[0]);
    }
}
