# ruff: noqa: E501  (kubectl prints long lines; the fixtures keep them verbatim)
"""kubectl output variants and runtime messages written for the signature tests (data only)."""

# kubectl >= 1.24 `get pods -o wide`: RESTARTS with "(Xm ago)", IP then NODE.
PODS_WIDE = """NAME                         READY   STATUS    RESTARTS      AGE   IP             NODE      NOMINATED NODE   READINESS GATES
web-5f7d9c6b8d-k2p4x         1/1     Running   0             2d    10.42.1.17     node-a    <none>           <none>
orders-7c9b5d8f6c-q8w2z      1/1     Running   1 (3h ago)    2d    10.42.2.31     node-b    <none>           <none>
pricing-6d8f7b9c5d-x7v4n     1/1     Running   0             2d    10.42.3.8      node-c    <none>           <none>
"""

# pino-http JSON request logs: web calls orders, orders calls pricing.
LOGS_WEB = "\n".join(
    f'{{"level":30,"time":17000000{i}000,"msg":"request completed","req":{{"url":"/cart"}},"res":{{"statusCode":200}},"responseTime":{6100 + i * 37}.5}}'
    for i in range(5)
)
LOGS_ORDERS = "\n".join(
    f'{{"level":30,"time":17000000{i}100,"msg":"incoming request","req":{{"method":"POST","url":"/orders","remoteAddress":"10.42.1.17","remotePort":5{i}120}}}}\n'
    f'{{"level":30,"time":17000000{i}900,"msg":"request completed","res":{{"statusCode":200}},"responseTime":{5900 + i * 41}.2}}'
    for i in range(5)
)
LOGS_PRICING = "\n".join(
    f'{{"level":30,"time":17000000{i}200,"msg":"incoming request","req":{{"method":"GET","url":"/price","remoteAddress":"::ffff:10.42.2.31","remotePort":4{i}880}}}}\n'
    f'{{"level":30,"time":17000000{i}800,"msg":"request completed","res":{{"statusCode":200}},"responseTime":{5700 + i * 29}.9}}'
    for i in range(5)
)

# describe pod: the init container fails, the app container never starts.
DESCRIBE_INIT_FAIL = """Name:             billing-6f9d8c7b5d-h4j2k
Namespace:        payments
Status:           Pending
IP:               10.42.0.55
Controlled By:    ReplicaSet/billing-6f9d8c7b5d
Init Containers:
  wait-for-schema:
    Image:         registry.local/tools/migrate:3.2
    State:         Waiting
      Reason:      CrashLoopBackOff
    Last State:    Terminated
      Reason:      Error
      Exit Code:   2
      Started:     Sat, 21 Nov 2026 23:10:02 +0000
      Finished:    Sat, 21 Nov 2026 23:10:04 +0000
    Ready:         False
    Restart Count: 5
Containers:
  billing:
    Image:         registry.local/billing:7.1.0
    State:         Waiting
      Reason:      PodInitializing
    Ready:         False
    Restart Count: 0
Events:
  Type     Reason   Age                  From     Message
  ----     ------   ----                 ----     -------
  Warning  BackOff  2m (x21 over 6m)     kubelet  Back-off restarting failed container wait-for-schema in pod billing-6f9d8c7b5d-h4j2k_payments(5d0c3a1e)
"""

DESCRIBE_INIT_OK = """Name:             billing-6f9d8c7b5d-p9r7t
Namespace:        payments
Status:           Running
Init Containers:
  wait-for-schema:
    Image:         registry.local/tools/migrate:3.2
    State:         Terminated
      Reason:      Completed
      Exit Code:   0
    Ready:         True
Containers:
  billing:
    State:         Running
"""

# The kubelet killed the container after failed liveness probes: 137 without OOMKilled.
DESCRIBE_LIVENESS_KILL = """Name:             search-5d9c8b7f6d-w2q8r
Namespace:        shop
Containers:
  search:
    State:          Running
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
    Restart Count:  4
    Liveness:       http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3
Events:
  Type     Reason     Age                 From     Message
  ----     ------     ----                ----     -------
  Warning  Unhealthy  90s (x12 over 9m)   kubelet  Liveness probe failed: Get "http://10.42.1.9:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
  Normal   Killing    90s (x4 over 9m)    kubelet  Container search failed liveness probe, will be restarted
"""

# `kubectl get events` (1.26+ columns) and the old pre-1.14 layout with FIRST SEEN / COUNT.
EVENTS_NEW = """LAST SEEN   TYPE      REASON             OBJECT                              MESSAGE
4m          Warning   FailedScheduling   pod/ingest-0                        0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) had volume node affinity conflict. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.
2m          Warning   BackOff            pod/api-7c8d9f6b5c-t5r4e            Back-off pulling image "registry.local/api:2.9.9"
"""

EVENTS_OLD = """LAST SEEN   FIRST SEEN   COUNT     NAME                          KIND      SUBOBJECT                TYPE      REASON             SOURCE              MESSAGE
1m          15m          31        ingest-0.16f2a1b2c3d4e5f6     Pod                                          Warning   FailedScheduling   default-scheduler   0/4 nodes are available: 1 node(s) had taints that the pod didn't tolerate, 3 node(s) had volume node affinity conflict.
"""

EVENTS_HPA = """LAST SEEN   TYPE      REASON                         OBJECT                             MESSAGE
30s         Warning   FailedGetResourceMetric        horizontalpodautoscaler/checkout   failed to get cpu utilization: missing request for cpu in container checkout of Pod checkout-5c6d7f8b9d-r2t4y
30s         Warning   FailedComputeMetricsReplicas   horizontalpodautoscaler/checkout   invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value
"""

# An alert record as alertmanager / a finding API prints it (JSON, one field a line).
ALERT_RECORD = """{
  "labels": {"alertname": "KubeMemoryOvercommit", "severity": "warning"},
  "annotations": {"description": "Cluster has overcommitted memory resource requests for Pods by 3.2Gi and cannot tolerate node failure."},
  "startsAt": "2026-11-20T04:15:00Z",
  "status": {"state": "active"}
}
"""

# A Deployment short of pods; the reason is only on its ReplicaSet's events.
DESCRIBE_DEPLOY_NO_PODS = """Name:                   etl-worker
Namespace:              batch
Selector:               app=etl-worker
Replicas:               4 desired | 0 updated | 0 total | 0 available | 4 unavailable
StrategyType:           RollingUpdate
Conditions:
  Type             Status  Reason
  ----             ------  ------
  Progressing      True    NewReplicaSetCreated
  Available        False   MinimumReplicasUnavailable
  ReplicaFailure   True    FailedCreate
OldReplicaSets:    <none>
NewReplicaSet:     etl-worker-6d5f8c9b7d (0/4 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  12m   deployment-controller  Scaled up replica set etl-worker-6d5f8c9b7d to 4
"""

DESCRIBE_RS_QUOTA = """Name:           etl-worker-6d5f8c9b7d
Namespace:      batch
Selector:       app=etl-worker,pod-template-hash=6d5f8c9b7d
Controlled By:  Deployment/etl-worker
Replicas:       0 current / 4 desired
Pods Status:    0 Running / 0 Waiting / 0 Succeeded / 0 Failed
Conditions:
  Type             Status  Reason
  ----             ------  ------
  ReplicaFailure   True    FailedCreate
Events:
  Type     Reason        Age                 From                   Message
  ----     ------        ----                ----                   -------
  Warning  FailedCreate  3m (x17 over 12m)   replicaset-controller  Error creating: pods "etl-worker-6d5f8c9b7d-7xk2p" is forbidden: exceeded quota: batch-compute, requested: requests.cpu=2, used: requests.cpu=15, limited: requests.cpu=16
"""

LOGS_PY_TRACEBACK = """2026-11-22 01:12:09,114 INFO starting invoice worker
Traceback (most recent call last):
  File "/app/worker.py", line 41, in <module>
    main()
  File "/app/worker.py", line 37, in main
    conn = psycopg2.connect(dsn)
psycopg2.OperationalError: connection to server at "ledger-db.finance.svc" (10.96.4.12), port 5432 failed: Connection refused
	Is the server running on that host and accepting TCP/IP connections?
"""

LOGS_JAVA_CAUSED_BY = """2026-11-22T01:12:09.114Z ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed
org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'
	at org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.createBean(AbstractAutowireCapableBeanFactory.java:517)
Caused by: org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
	at org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
Caused by: java.net.UnknownHostException: orders-db.shop.svc.cluster.local
	at java.base/java.net.InetAddress$CachedAddresses.get(InetAddress.java:801)
"""

LOGS_GO_PANIC = """I1122 01:12:09.114321       1 main.go:52] loading config from /etc/app/config.yaml
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x4a2b3c]

goroutine 1 [running]:
main.main()
	/src/main.go:61 +0x1c
"""

# A healthy node: conditions printed False, capacity lines naming ephemeral-storage.
DESCRIBE_NODE_HEALTHY = """Name:               node-a
Roles:              <none>
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Sun, 22 Nov 2026 01:50:12 +0000   Mon, 02 Nov 2026 08:01:44 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  DiskPressure     False   Sun, 22 Nov 2026 01:50:12 +0000   Mon, 02 Nov 2026 08:01:44 +0000   KubeletHasNoDiskPressure     kubelet has no disk pressure
  PIDPressure      False   Sun, 22 Nov 2026 01:50:12 +0000   Mon, 02 Nov 2026 08:01:44 +0000   KubeletHasSufficientPID      kubelet has sufficient PID available
  Ready            True    Sun, 22 Nov 2026 01:50:12 +0000   Mon, 02 Nov 2026 08:02:15 +0000   KubeletReady                 kubelet is posting ready status
Capacity:
  cpu:                8
  ephemeral-storage:  203056560Ki
  memory:             32863360Ki
Allocated resources:
  Resource           Requests      Limits
  --------           --------      ------
  cpu                3250m (40%)   6 (75%)
  ephemeral-storage  0 (0%)        0 (0%)
"""

DESCRIBE_NODE_DISK = DESCRIBE_NODE_HEALTHY.replace(
    "DiskPressure     False", "DiskPressure     True "
).replace(
    "KubeletHasNoDiskPressure     kubelet has no disk pressure",
    "KubeletHasDiskPressure       kubelet has disk pressure",
)
