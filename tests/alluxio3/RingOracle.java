// Our oracle for tests/alluxio3: asks Alluxio 3's own client classes (the 313 jars from Maven Central, see
// fetch-alluxio3.sh) which worker owns each path, so the extender's ring can be checked against Alluxio itself.
//
//   java -cp "$(cat $CACHE/classpath.txt):CLASSES" RingOracle REQUEST.json > ANSWER.json
//
// REQUEST: {"ufsRoot": "<alluxio.dora.client.ufs.root>", "paths": [...], "hashes": ["<hex bytes>", ...],
//           "sets": [{"name": "...", "etcd": ["<value of a /ServiceDiscovery key>", ...]},
//                    {"name": "...", "staticFile": "<alluxio.worker.static.membership.manager.config.file>"}]}
//           (a set may add "virtualNodes": alluxio.user.consistent.hash.virtual.node.count.per.worker)
// ANSWER:  {"version": "<Alluxio's>", "keys": [<hash key per path, or null>],
//           "hashes": [<Guava murmur3_32_fixed of each, as an int>],
//           "owners": {"<set name>": [<owning worker's host per path, or null>]},
//           "errors": {"<set name>": "<why Alluxio could not read that membership>"}}
//
// Every step is Alluxio's: etcd values are read by WorkerServiceEntity.deserialize (Gson), a static worker file by
// StaticMembershipManager, the key is what DoraCacheFileSystem.convertToUfsPath makes of the path
// (PathUtils.convertAlluxioPathToUfsPath over AlluxioURI), and the owner is what the configured
// WorkerLocationPolicy (ConsistentHashPolicy by default) returns first, as DoraCacheClient.getWorkerNetAddress
// does. A fresh policy per worker set: ConsistentHashProvider rebuilds its ring at most once a second.
import alluxio.AlluxioURI;
import alluxio.RuntimeConstants;
import alluxio.client.block.BlockWorkerInfo;
import alluxio.client.file.dora.WorkerLocationPolicy;
import alluxio.conf.Configuration;
import alluxio.conf.InstancedConfiguration;
import alluxio.conf.PropertyKey;
import alluxio.membership.StaticMembershipManager;
import alluxio.membership.WorkerClusterView;
import alluxio.membership.WorkerServiceEntity;
import alluxio.util.io.PathUtils;
import alluxio.wire.WorkerInfo;
import alluxio.wire.WorkerState;

import com.google.common.hash.Hashing;
import com.google.common.io.BaseEncoding;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class RingOracle {
  public static void main(String[] args) throws Exception {
    JsonObject request = new Gson().fromJson(
        new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8), JsonObject.class);
    AlluxioURI ufsRoot = new AlluxioURI(request.get("ufsRoot").getAsString());
    List<String> keys = new ArrayList<>();
    for (JsonElement path : request.getAsJsonArray("paths")) {
      keys.add(key(path.getAsString(), ufsRoot));
    }
    List<Integer> hashes = new ArrayList<>();
    for (JsonElement hex : request.getAsJsonArray("hashes")) {
      byte[] data = BaseEncoding.base16().lowerCase().decode(hex.getAsString());
      hashes.add(Hashing.murmur3_32_fixed().hashBytes(data).asInt());
    }
    Map<String, List<String>> owners = new LinkedHashMap<>();
    Map<String, String> errors = new LinkedHashMap<>();
    for (JsonElement element : request.getAsJsonArray("sets")) {
      JsonObject set = element.getAsJsonObject();
      String name = set.get("name").getAsString();
      InstancedConfiguration conf = Configuration.copyGlobal();
      if (set.has("virtualNodes")) {
        conf.set(PropertyKey.USER_CONSISTENT_HASH_VIRTUAL_NODE_COUNT_PER_WORKER,
            set.get("virtualNodes").getAsInt());
      }
      WorkerClusterView view;
      try {
        if (set.has("staticFile")) {
          conf.set(PropertyKey.WORKER_STATIC_MEMBERSHIP_MANAGER_CONFIG_FILE,
              set.get("staticFile").getAsString());
          view = StaticMembershipManager.create(conf).getLiveMembers();
        } else {
          view = fromEtcd(set.getAsJsonArray("etcd"));
        }
      } catch (RuntimeException e) { // e.g. an entry without an identity: the whole listing fails
        errors.put(name, e.toString());
        continue;
      }
      WorkerLocationPolicy policy = WorkerLocationPolicy.Factory.create(conf);
      List<String> hosts = new ArrayList<>();
      for (String key : keys) {
        hosts.add(key == null ? null : owner(policy, view, key));
      }
      owners.put(name, hosts);
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("version", RuntimeConstants.VERSION);
    answer.put("keys", keys);
    answer.put("hashes", hashes);
    answer.put("owners", owners);
    answer.put("errors", errors);
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    out.println(new Gson().toJson(answer));
    out.flush();
  }

  /** The key Alluxio hashes for a path, or null where Alluxio refuses the path. */
  private static String key(String path, AlluxioURI ufsRoot) {
    try {
      return PathUtils.convertAlluxioPathToUfsPath(new AlluxioURI(path), ufsRoot).toString();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The live workers as EtcdMembershipManager.getLiveMembers reads them, entries in key order. */
  private static WorkerClusterView fromEtcd(JsonArray values) {
    List<WorkerInfo> workers = new ArrayList<>();
    for (JsonElement value : values) {
      WorkerServiceEntity entity = new WorkerServiceEntity();
      try {
        entity.deserialize(value.getAsString().getBytes(StandardCharsets.UTF_8));
      } catch (RuntimeException e) { // JsonParseException: Alluxio skips the entry
        continue;
      }
      workers.add(new WorkerInfo().setIdentity(entity.getIdentity())
          .setAddress(entity.getWorkerNetAddress()).setState(WorkerState.LIVE));
    }
    return new WorkerClusterView(workers);
  }

  private static String owner(WorkerLocationPolicy policy, WorkerClusterView view, String key) {
    try {
      List<BlockWorkerInfo> workers = policy.getPreferredWorkers(view, key, 1);
      return workers.get(0).getNetAddress().getHost();
    } catch (Exception e) {
      return null;
    }
  }
}
