// Redis Cluster client: routes each command to the master owning its key's slot (in progress).
