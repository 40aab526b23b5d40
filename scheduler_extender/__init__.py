"""kube-scheduler extender that scores nodes by the bytes of a pod's input their Alluxio workers cache."""
