#!/bin/sh
# Runs inside the container: /srv/spawnpoint is the service's working directory.
echo "hello from $(hostname), router at ${SPAWNPOINT_ROUTER}"
i=0
while true; do
  i=$((i + 1))
  echo "tick $i"
  sleep 1
done
