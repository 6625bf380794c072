-- Runs once, when the postgresql service initialises an empty data volume
-- (docker-entrypoint-initdb.d). Temporal's own databases (temporal, temporal_visibility)
-- are created by the temporalio/auto-setup container; this adds the mlpipe metadata store.
CREATE DATABASE mlpipe;
