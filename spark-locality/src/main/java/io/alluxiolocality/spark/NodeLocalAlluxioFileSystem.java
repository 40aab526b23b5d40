package io.alluxiolocality.spark;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alluxio's Hadoop file system, reporting each block on the hosts of this application's executors on the nodes
 * whose workers hold it (NodeLocalHosts), so that Spark's delay scheduling sends a task to an executor on such a
 * node (NODE_LOCAL) instead of anywhere (ANY). Set it with {@code spark.hadoop.fs.alluxio.impl}; the executors come
 * from ExecutorNodeListener ({@code spark.extraListeners}).
 *
 * <p>Every listing path of Spark and Hadoop asks for locations here: Spark's file index calls it for each file it
 * lists, Hadoop's listLocatedStatus and input formats through FileSystem's defaults, which Alluxio does not
 * override. With no executor known (none yet, none with a node, or in an executor's JVM) it reports what Alluxio
 * reports, and it never fails a listing for its own sake.
 */
public class NodeLocalAlluxioFileSystem extends alluxio.hadoop.FileSystem {

    private static final Logger LOG = LoggerFactory.getLogger(NodeLocalAlluxioFileSystem.class);

    @Override
    public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) throws IOException {
        BlockLocation[] found = super.getFileBlockLocations(file, start, len);
        if (found == null || found.length == 0) {
            return found;
        }
        ExecutorNodes nodes = ExecutorNodes.get();
        try {
            long waited = nodes.awaitExecutors();
            if (waited > 0) {
                LOG.info("listing waited {} ms for executors, {} registered", waited, nodes.registration());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return found;
        }
        try {
            return onExecutors(nodes, file, found);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Alluxio's block hosts of {} reported as they are: {}", file.getPath(), e.toString());
            return found;
        }
    }

    /** The blocks on executor hosts; a block's names (host:port, which Spark and Hadoop's input formats do not
     * read) become its hosts, as no port of an executor means anything here. */
    private static BlockLocation[] onExecutors(ExecutorNodes nodes, FileStatus file, BlockLocation[] found)
            throws IOException {
        List<String> blockHosts = new ArrayList<>();
        for (BlockLocation location : found) {
            blockHosts.addAll(List.of(location.getHosts()));
        }
        Map<String, List<String>> executors = nodes.hostsOn(blockHosts);
        if (executors.isEmpty()) {
            return found;
        }
        int pathHash = file.getPath().toString().hashCode();
        BlockLocation[] rewritten = new BlockLocation[found.length];
        for (int i = 0; i < found.length; i++) {
            BlockLocation block = found[i];
            String[] hosts = NodeLocalHosts.hostsFor(block.getHosts(), executors, nodes.maxHostsPerBlock(),
                    31L * pathHash + block.getOffset());
            rewritten[i] = new BlockLocation(hosts, hosts, block.getOffset(), block.getLength());
        }
        LOG.debug("{}: block hosts {} reported on executors {}", file.getPath(), blockHosts, executors);
        return rewritten;
    }
}
