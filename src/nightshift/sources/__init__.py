"""Evidence sources: the real systems an investigation reads (the cluster,
Prometheus, the log store, Alertmanager, the database, the network, the change
feed), each behind the agent's ``Toolset`` port.

A deployment declares its sources once (a YAML file named by
``NIGHTSHIFT_SOURCES_FILE``); the control plane hands each worker only the
sources its agent's boundaries allow; the worker builds one toolset from them
(``registry.build_toolset``). The simulated world is one more kind of source.
"""
